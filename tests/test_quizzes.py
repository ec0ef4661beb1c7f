"""Question generation and grading, as plain functions over the shipped catalog."""

import hashlib
import re

import pytest

from app import calculators, catalog, quizzes
from app.config import PROJECT_ROOT
from app.quizzes import CardFacts, Kind

CATALOG = catalog.read_catalog(PROJECT_ROOT / "formulas")
CARDS = [quizzes.facts_of(card) for card, _ in CATALOG.cards]
CATEGORIES = sorted({card.category for card in CARDS})


def described(question: quizzes.Question) -> tuple:
    return (
        question.kind,
        question.card.id,
        repr(question.prompt),
        question.options,
        question.correct_option,
        question.expected,
    )


@pytest.mark.parametrize("kind", list(Kind))
def test_every_kind_can_be_generated(kind: Kind) -> None:
    questions = quizzes.generate(CARDS, 12, [kind], seed=3)
    assert len(questions) == 12
    assert {question.kind for question in questions} == {kind}
    for question in questions:
        if kind is not Kind.COMPUTE:
            assert len(question.options) == quizzes.OPTIONS_PER_QUESTION
            assert 0 <= question.correct_option < len(question.options)


@pytest.mark.parametrize("category", CATEGORIES)
def test_every_category_gets_questions(category: str) -> None:
    in_category = [card for card in CARDS if card.category == category]
    questions = quizzes.generate(in_category, 6, list(Kind), seed=11)
    assert {question.card.category for question in questions} == {category}


def test_the_same_seed_gives_the_same_questions_in_the_same_order() -> None:
    first = quizzes.generate(CARDS, 20, list(Kind), seed=2026)
    again = quizzes.generate(CARDS, 20, list(Kind), seed=2026)
    other = quizzes.generate(CARDS, 20, list(Kind), seed=2027)
    assert [described(q) for q in first] == [described(q) for q in again]
    assert [described(q) for q in first] != [described(q) for q in other]


FIXED_CARDS = [
    CardFacts(
        id=f"card-{n}",
        category="ab"[n % 2],
        title={"ja": f"公式{n}", "en": f"Formula {n}"},
        latex=rf"y_{{{n}}} = \frac{{a_{n} + b}}{{c + {n}}} + \sqrt{{d_{n}}}",
        symbols=(
            (f"a_{n}", {"ja": f"係数{n}", "en": f"coefficient {n}"}),
            ("b", {"ja": "偏り", "en": "bias"}),
            (f"d_{n}", {"ja": f"分散{n}", "en": f"variance {n}"}),
        ),
        wrong_forms=(
            (rf"y_{{{n}}} = \frac{{a_{n} - b}}{{c + {n}}}", {"ja": "符号", "en": "sign"}),
        ),
    )
    for n in range(8)
]


def test_an_attempt_gets_the_same_questions_from_its_seed_in_every_release() -> None:
    # An attempt stores only its seed and settings, so a change to how questions are drawn
    # would change the questions of attempts in progress. Over cards that never change,
    # this digest moves with any such change.
    kinds = [Kind.COMPLETE, Kind.SYMBOL, Kind.NAME]
    questions = quizzes.generate(FIXED_CARDS, 12, kinds, seed=7)
    digest = hashlib.sha256(repr([described(q) for q in questions]).encode()).hexdigest()
    assert digest == "423912a231f587e760a0f4b1baf5892b4afd3c6367d0b576ca1caabd3a539e15"


def test_a_compute_answer_is_the_calculators_output() -> None:
    for question in quizzes.generate(CARDS, 30, [Kind.COMPUTE], seed=5):
        calculator = calculators.get(question.prompt["calculator"])
        outputs = calculator.run(calculator.parse(question.prompt["inputs"])).outputs
        assert question.expected == calculator.answer_value(outputs)
        assert question.steps  # the worked solution shown afterwards


def test_complete_the_formula_masks_a_term_that_restores_the_formula() -> None:
    for question in quizzes.generate(CARDS, 30, [Kind.COMPLETE], seed=8):
        masked = question.prompt["latex"]
        assert r"\boxed{\;?\;}" in masked
        correct = question.options[question.correct_option].math
        assert masked.replace(r"\boxed{\;?\;}", correct) == question.card.latex
        terms = [re.sub(r"\s+", "", option.math) for option in question.options]
        assert len(set(terms)) == len(terms)


def test_only_math_is_masked_never_an_environment_name_or_text() -> None:
    # A box in \begin{…} is a TeX error; in \text{…} it is shown as its TeX.
    latex = r"f(x) = \begin{cases} x^{abc} & \text{if positive} \\ 0 & \mbox{else} \end{cases}"
    assert [latex[start:end] for start, end in quizzes.brace_groups(latex)] == ["abc"]


def test_distractors_come_from_the_cards_common_mistakes() -> None:
    conv = next(card for card in CARDS if card.id == "conv-output-size")
    question = quizzes.generate([conv], 1, [Kind.COMPLETE], seed=0)[0]
    assert question.card.id == "conv-output-size"
    explained = [option for option in question.options if option.why_wrong]
    assert explained, "the card's wrong form is offered, with why it is wrong"
    assert "+" in explained[0].math  # the "+ f" of the seed notes' mistake


def test_symbol_questions_ask_about_symbols_in_the_formula_shown() -> None:
    for question in quizzes.generate(CARDS, 30, [Kind.SYMBOL], seed=4):
        assert question.prompt["symbol"].replace(" ", "") in question.card.latex.replace(" ", "")


def test_name_the_formula_offers_titles_from_the_same_category_first() -> None:
    question = quizzes.generate(CARDS, 1, [Kind.NAME], seed=9)[0]
    same = [c for c in CARDS if c.category == question.card.category]
    titles = [option.text["en"] for option in question.options]
    expected = min(len(same), quizzes.OPTIONS_PER_QUESTION)
    assert sum(c.title["en"] in titles for c in same) == expected


@pytest.mark.parametrize(
    ("given", "right"),
    [
        ("0.659", True),
        ("0.66", True),
        ("0.6590011", True),
        ("0.7", False),
        ("abc", False),
        ("", False),
        ("nan", False),
        ("inf", False),
    ],
)
def test_compute_answers_are_graded_within_the_stated_tolerance(given: str, right: bool) -> None:
    question = quizzes.Question(0, Kind.COMPUTE, CARDS[0], {}, expected=0.6590011388859679)
    assert quizzes.grade(question, given).correct is right


def test_multiple_choice_is_graded_by_option_number_from_one() -> None:
    question = quizzes.generate(CARDS, 1, [Kind.NAME], seed=1)[0]
    right = str(question.correct_option + 1)
    assert quizzes.grade(question, right).correct
    assert not quizzes.grade(question, "5").correct
    assert quizzes.grade(question, "x").expected == right


def test_no_question_can_be_made_from_nothing() -> None:
    with pytest.raises(quizzes.QuizError):
        quizzes.generate(CARDS[:1], 3, [Kind.NAME], seed=0)
    with pytest.raises(quizzes.QuizError):
        quizzes.generate([], 3, list(Kind), seed=0)
