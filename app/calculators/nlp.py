"""Text metrics."""

import math
from collections import Counter
from typing import Annotated

from pydantic import Field

from app.calculators.registry import calculator
from app.calculators.types import Inputs, InvalidInput, Result, Step, described

Sentence = Annotated[str, Field(min_length=1, max_length=2000)]


def ngram_counts(tokens: list[str], n: int) -> Counter[tuple[str, ...]]:
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def closest_length(candidate_length: int, reference_lengths: list[int]) -> int:
    """The reference length nearest the candidate's; on a tie the shorter (as sacrebleu)."""
    return min(reference_lengths, key=lambda length: (abs(length - candidate_length), length))


class BleuInputs(Inputs):
    candidate: Sentence = described(
        en="Candidate translation (tokens separated by spaces)", ja="候補訳（トークンは空白区切り）"
    )
    references: list[Sentence] = described(
        min_length=1, max_length=16, en="Reference translations", ja="参照訳（1つ以上）"
    )
    max_n: int = described(4, ge=1, le=8, en="Largest n-gram order N", ja="n-gram の最大次数 N")


@calculator(
    "bleu",
    outputs=("bleu", "precisions", "brevity_penalty", "candidate_length", "reference_length"),
)
def bleu(inputs: BleuInputs) -> Result:
    candidate = inputs.candidate.split()
    if not candidate:
        raise InvalidInput("candidate", "must contain at least one word")
    references = [reference.split() for reference in inputs.references]
    matches, totals = [], []
    for n in range(1, inputs.max_n + 1):
        candidate_ngrams = ngram_counts(candidate, n)
        # Clipping: an n-gram counts at most as often as it appears in any one reference.
        most_in_a_reference = Counter[tuple[str, ...]]()
        for reference in references:
            most_in_a_reference |= ngram_counts(reference, n)
        matches.append(sum((candidate_ngrams & most_in_a_reference).values()))
        totals.append(sum(candidate_ngrams.values()))
    precisions = [m / t if t else 0.0 for m, t in zip(matches, totals, strict=True)]
    c = len(candidate)
    r = closest_length(c, [len(reference) for reference in references])
    brevity_penalty = 1.0 if c >= r else math.exp(1 - r / c)
    geometric_mean = (
        math.exp(sum(map(math.log, precisions)) / inputs.max_n) if min(precisions) > 0 else 0.0
    )
    score = brevity_penalty * geometric_mean
    return Result(
        {
            "bleu": score,
            "precisions": precisions,
            "brevity_penalty": brevity_penalty,
            "candidate_length": c,
            "reference_length": r,
        },
        [
            Step("clipped matching n-grams, n = 1…N", matches),
            Step("candidate n-grams, n = 1…N", totals),
            Step("p_n", precisions),
            Step("c, r", [c, r]),
            Step("BP = 1 if c ≥ r else exp(1 − r / c)", brevity_penalty),
            Step("exp((1/N) Σ log p_n)", geometric_mean),
            Step("BLEU = BP · exp((1/N) Σ log p_n)", score),
        ],
    )
