"""Quiz questions generated from the catalog, and their grading.

Pure: no web, no database. A quiz is fully determined by its cards, its settings and a
seed, so the server never needs to store or reveal the answers: it regenerates the
question when the learner answers and grades it then.
"""

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from typing import Any

import numpy as np

from app import calculators
from app.cards import Card
from app.markdown import Math

OPTIONS_PER_QUESTION = 4
RELATIVE_TOLERANCE = 0.01
ABSOLUTE_TOLERANCE = 0.005
"""Compute answers are right within 1 % or 0.005, whichever is larger: three significant
figures typed by hand, as on the exam."""


class Kind(StrEnum):
    COMPUTE = "compute"
    COMPLETE = "complete"
    SYMBOL = "symbol"
    NAME = "name"


@dataclass(frozen=True)
class CardFacts:
    """What question generation needs to know about one card."""

    id: str
    category: str
    title: dict[str, str]
    latex: str
    symbols: tuple[tuple[str, dict[str, str]], ...]
    wrong_forms: tuple[tuple[str, dict[str, str]], ...] = ()
    calculator: str | None = None


def facts_of(card: Card) -> CardFacts:
    """A card file's facts (the server reads them from the database instead)."""
    return CardFacts(
        id=card.id,
        category=card.category,
        title={"ja": card.title.ja, "en": card.title.en},
        latex=card.latex[0],
        symbols=tuple((s.latex, {"ja": s.ja, "en": s.en}) for s in card.symbols),
        wrong_forms=tuple((w.latex, {"ja": w.ja, "en": w.en}) for w in card.wrong_forms),
        calculator=card.calculator,
    )


@dataclass(frozen=True)
class Option:
    """A multiple-choice option: TeX (`math`) or localized text."""

    math: str | None = None
    text: dict[str, str] | None = None
    why_wrong: dict[str, str] | None = None


@dataclass(frozen=True)
class Question:
    index: int
    kind: Kind
    card: CardFacts
    prompt: dict[str, Any]
    options: tuple[Option, ...] = ()
    correct_option: int | None = None
    expected: float | None = None
    steps: tuple[calculators.Step, ...] = field(default=())


@dataclass(frozen=True)
class Grade:
    correct: bool
    expected: str


class QuizError(ValueError):
    """Settings for which no quiz can be made (for example, no card matches)."""


def generate(
    cards: Sequence[CardFacts],
    count: int,
    kinds: Sequence[Kind],
    seed: int,
    pool: Sequence[CardFacts] | None = None,
) -> list[Question]:
    """`count` questions about `cards`, each of a kind drawn from `kinds`, fixed by `seed`.

    Distractors come from `pool` (default: `cards`), so a review of a single due card can
    still offer titles and meanings from the rest of the catalog.
    """
    if not cards:
        raise QuizError("no card to ask about")
    pool = cards if pool is None else pool
    kinds = [kind for kind in kinds if _pool_allows(kind, pool)]
    rng = np.random.default_rng(seed)
    questions: list[Question] = []
    order: list[int] = []
    attempts = 0
    while len(questions) < count:
        if not order:
            order = list(rng.permutation(len(cards)))
        card = cards[order.pop()]
        possible = [kind for kind in kinds if _card_allows(kind, card)]
        attempts += 1
        if attempts > 20 * count + len(cards):
            raise QuizError("no question of the chosen kinds can be made from these cards")
        if not possible:
            continue
        kind = possible[int(rng.integers(len(possible)))]
        questions.append(BUILDERS[kind](len(questions), card, pool, rng))
    return questions


def _pool_allows(kind: Kind, pool: Sequence[CardFacts]) -> bool:
    """Whether the pool holds enough wrong options for a question of this kind."""
    if kind is Kind.SYMBOL:
        return len(_all_meanings(pool)) >= OPTIONS_PER_QUESTION
    if kind is Kind.NAME:
        return len(pool) >= OPTIONS_PER_QUESTION
    return True


def _card_allows(kind: Kind, card: CardFacts) -> bool:
    """Whether the card has what a question of this kind asks about."""
    if kind is Kind.COMPUTE:
        calculator = calculators.get(card.calculator or "")
        return calculator is not None and calculator.sample is not None
    if kind is Kind.COMPLETE:
        return bool(brace_groups(card.latex))
    if kind is Kind.SYMBOL:
        return bool(card.symbols)
    return True


def _compute(
    index: int, card: CardFacts, _cards: Sequence[CardFacts], rng: np.random.Generator
) -> Question:
    calculator = calculators.get(card.calculator or "")
    if calculator is None or calculator.sample is None:
        raise QuizError(f"{card.id} has no calculator that can pose a question")
    inputs = calculator.sample(rng)
    result = calculator.run(calculator.parse(inputs))
    return Question(
        index,
        Kind.COMPUTE,
        card,
        prompt={"calculator": calculator.id, "inputs": inputs, "answer": calculator.answer},
        expected=float(calculator.answer_value(result.outputs)),
        steps=tuple(result.steps),
    )


def _multiple_choice(
    index: int,
    kind: Kind,
    card: CardFacts,
    prompt: dict[str, Any],
    correct: Option,
    distractors: Sequence[Option],
    rng: np.random.Generator,
) -> Question:
    options = [correct, *distractors[: OPTIONS_PER_QUESTION - 1]]
    order = rng.permutation(len(options))
    shuffled = tuple(options[i] for i in order)
    return Question(index, kind, card, prompt, shuffled, correct_option=int(np.argmin(order)))


def _complete(
    index: int, card: CardFacts, cards: Sequence[CardFacts], rng: np.random.Generator
) -> Question:
    groups = brace_groups(card.latex)
    start, end = _group_around_a_mistake(card, groups) or groups[int(rng.integers(len(groups)))]
    correct = card.latex[start:end]
    candidates = _own_distractors(card, start, end)
    others = [c for c in cards if c.id != card.id]
    others.sort(key=lambda c: c.category != card.category)  # same category first
    for other in others:
        candidates += [Option(math=other.latex[a:b]) for a, b in brace_groups(other.latex)]
    distractors = _distinct(candidates, exclude={correct}, rng=rng)
    masked = _masked(card.latex, start, end)
    return _multiple_choice(
        index, Kind.COMPLETE, card, {"latex": masked}, Option(math=correct), distractors, rng
    )


def _masked(latex: str, start: int, end: int) -> str:
    return latex[:start] + r"\boxed{\;?\;}" + latex[end:]


def _own_distractors(card: CardFacts, start: int, end: int) -> list[Option]:
    """The wrong options a group of the card itself suggests: its mistakes, then slips."""
    mutations = [Option(math=term) for term in _mutations(card.latex[start:end])]
    return _mistaken_terms(card, start, end) + mutations


def complete_math(card: CardFacts) -> set[Math]:
    """Every formula a complete-the-formula question can show of this card: its formula with
    a group masked (shown as a display), and each group, its mistakes and slips (options, on
    this card's questions or on others')."""
    math: set[Math] = set()
    for start, end in brace_groups(card.latex):
        math.add((_masked(card.latex, start, end), True))
        options = [Option(math=card.latex[start:end]), *_own_distractors(card, start, end)]
        math.update((option.math, False) for option in options if option.math is not None)
    return math


def _symbol(
    index: int, card: CardFacts, cards: Sequence[CardFacts], rng: np.random.Generator
) -> Question:
    shown = _symbols_in_formula(card)
    symbol, meaning = shown[int(rng.integers(len(shown)))]
    others = [m for m in _all_meanings(cards) if m["en"] != meaning["en"]]
    rng.shuffle(others)
    return _multiple_choice(
        index,
        Kind.SYMBOL,
        card,
        {"symbol": symbol, "latex": card.latex},
        Option(text=meaning),
        [Option(text=m) for m in others[: OPTIONS_PER_QUESTION - 1]],
        rng,
    )


def _name(
    index: int, card: CardFacts, cards: Sequence[CardFacts], rng: np.random.Generator
) -> Question:
    others = [c for c in cards if c.id != card.id]
    rng.shuffle(others)
    others.sort(key=lambda c: c.category != card.category)  # stable: same category first
    return _multiple_choice(
        index,
        Kind.NAME,
        card,
        {"latex": card.latex},
        Option(text=card.title),
        [Option(text=c.title) for c in others],
        rng,
    )


BUILDERS = {
    Kind.COMPUTE: _compute,
    Kind.COMPLETE: _complete,
    Kind.SYMBOL: _symbol,
    Kind.NAME: _name,
}


def _symbols_in_formula(card: CardFacts) -> list[tuple[str, dict[str, str]]]:
    """Legend entries that stand in the formula shown (legends also explain variants)."""
    formula = _normalized(card.latex)
    shown = [entry for entry in card.symbols if _normalized(entry[0]) in formula]
    return shown or list(card.symbols)


def _all_meanings(cards: Sequence[CardFacts]) -> list[dict[str, str]]:
    unique = {meaning["en"]: meaning for card in cards for _, meaning in card.symbols}
    return list(unique.values())


def _distinct(
    candidates: Sequence[Option], exclude: set[str], rng: np.random.Generator
) -> list[Option]:
    """Options whose TeX differs from each other and from `exclude`; mistakes come first."""
    seen = {_normalized(term) for term in exclude}
    chosen = []
    for option in candidates:
        key = _normalized(option.math or "")
        if key and key not in seen:
            seen.add(key)
            chosen.append(option)
    head, tail = chosen[:2], chosen[2:]
    rng.shuffle(tail)  # keep the mistake-derived ones, vary the rest
    return head + tail


_WHITESPACE = re.compile(r"\s+")


def _normalized(latex: str) -> str:
    return _WHITESPACE.sub("", latex)


NOT_MATH_ARGUMENT = re.compile(r"\\(?:begin|end|text[a-z]*|mbox)\s*$")
"""Macros whose argument is not math: a box in it is an error (an environment's name) or
shown as its TeX (text)."""


@lru_cache(maxsize=4096)  # a complete-the-formula question scans every card's formula
def brace_groups(latex: str) -> tuple[tuple[int, int], ...]:
    """Spans of the contents of every `{…}` group worth masking: math of 3+ visible
    characters."""
    spans, stack = [], []
    for position, character in enumerate(latex):
        escaped = position > 0 and latex[position - 1] == "\\"
        if character == "{" and not escaped:
            stack.append(position + 1)
        elif character == "}" and not escaped and stack:
            start = stack.pop()
            math = not NOT_MATH_ARGUMENT.search(latex, 0, start - 1)
            if math and len(_normalized(latex[start:position])) >= 3:
                spans.append((start, position))
    return tuple(spans)


def _differing_span(correct: str, wrong: str) -> tuple[int, int]:
    """The span of `correct` that differs from `wrong` (common prefix and suffix removed)."""
    prefix = 0
    while prefix < min(len(correct), len(wrong)) and correct[prefix] == wrong[prefix]:
        prefix += 1
    suffix = 0
    while (
        suffix < min(len(correct), len(wrong)) - prefix
        and correct[-1 - suffix] == wrong[-1 - suffix]
    ):
        suffix += 1
    return prefix, len(correct) - suffix


def _group_around_a_mistake(
    card: CardFacts, groups: Sequence[tuple[int, int]]
) -> tuple[int, int] | None:
    """The smallest group holding what a wrong form changes, so its mistake is an option."""
    for wrong, _ in card.wrong_forms:
        first, last = _differing_span(card.latex, wrong)
        around = [(a, b) for a, b in groups if a <= first and last <= b]
        if around:
            return min(around, key=lambda span: span[1] - span[0])
    return None


def _mistaken_terms(card: CardFacts, start: int, end: int) -> list[Option]:
    """What each wrong form puts where the masked group stands, with why it is wrong."""
    terms = []
    for wrong, why in card.wrong_forms:
        first, last = _differing_span(card.latex, wrong)
        if start <= first and last <= end:
            terms.append(
                Option(math=wrong[start : len(wrong) - (len(card.latex) - end)], why_wrong=why)
            )
    return terms


def _mutations(term: str) -> list[str]:
    """Small plausible slips: a flipped sign, a dropped square root, a swapped fraction."""
    swapped = term.translate(str.maketrans({"+": "-", "-": "+"}))
    unrooted = re.sub(r"\\sqrt\{([^{}]*)\}", r"\1", term)
    flipped = re.sub(r"\\frac\{([^{}]*)\}\{([^{}]*)\}", r"\\frac{\2}{\1}", term)
    return [variant for variant in (swapped, unrooted, flipped) if variant != term]


def grade(question: Question, given: str) -> Grade:
    """Whether `given` (an option number from 1, or a number typed) answers `question`."""
    if question.kind is Kind.COMPUTE:
        assert question.expected is not None
        expected = f"{question.expected:.6g}"
        try:
            value = float(given.strip().replace(",", ""))
        except ValueError:
            return Grade(False, expected)
        tolerance = max(RELATIVE_TOLERANCE * abs(question.expected), ABSOLUTE_TOLERANCE)
        return Grade(math.isfinite(value) and abs(value - question.expected) <= tolerance, expected)
    assert question.correct_option is not None
    expected = str(question.correct_option + 1)
    return Grade(given.strip() == expected, expected)
