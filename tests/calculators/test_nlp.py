import pytest
import sacrebleu
from hypothesis import given
from hypothesis import strategies as st

from tests.calculators.reference import assert_close, compute

words = st.sampled_from(["the", "cat", "sat", "on", "a", "mat", "dog", "red", "is"])
sentences = st.lists(words, min_size=1, max_size=14).map(" ".join)


def sacrebleu_reference(candidate: str, references: list[str], max_n: int) -> sacrebleu.BLEU:
    metric = sacrebleu.BLEU(tokenize="none", smooth_method="none", max_ngram_order=max_n)
    return metric.corpus_score([candidate], [[reference] for reference in references])


def assert_matches_sacrebleu(candidate: str, references: list[str], max_n: int = 4) -> None:
    ours = compute("bleu", candidate=candidate, references=references, max_n=max_n)
    theirs = sacrebleu_reference(candidate, references, max_n)
    assert_close(ours["bleu"], theirs.score / 100)
    assert_close(ours["precisions"], [p / 100 for p in theirs.precisions])
    assert_close(ours["brevity_penalty"], theirs.bp)
    assert ours["candidate_length"] == theirs.sys_len
    assert ours["reference_length"] == theirs.ref_len


def test_bleu_default_equals_sacrebleu_corpus_bleu() -> None:
    candidate = "the cat sat on the mat"
    references = ["the cat sat on the red mat", "a small grey feline rested upon a woven rug"]
    score = sacrebleu.corpus_bleu(
        [candidate], [[r] for r in references], tokenize="none", smooth_method="none"
    ).score
    assert_close(compute("bleu", candidate=candidate, references=references)["bleu"], score / 100)


@given(sentences, st.lists(sentences, min_size=1, max_size=4), st.integers(1, 4))
def test_bleu_matches_sacrebleu(candidate: str, references: list[str], max_n: int) -> None:
    assert_matches_sacrebleu(candidate, references, max_n)


@pytest.mark.parametrize(
    ("candidate", "references"),
    [
        ("the the the the", ["the cat is on the mat"]),  # clipping
        ("a b", ["a b c d", "a"]),  # tie in |c − r|: the shorter reference wins
        ("cat", ["cat"]),  # shorter than the 2-gram order: score 0
    ],
)
def test_bleu_edge_cases_match_sacrebleu(candidate: str, references: list[str]) -> None:
    assert_matches_sacrebleu(candidate, references)
