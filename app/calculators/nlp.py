"""Text: BLEU, word embeddings (word2vec, GloVe), n-gram language models, beam search."""

import math
from collections import Counter
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field, model_validator

from app.calculators.activations import stable_softmax
from app.calculators.registry import calculator
from app.calculators.rnn import logistic, require_shape
from app.calculators.types import (
    MAX_ELEMENTS,
    Inputs,
    InvalidInput,
    Matrix,
    Real,
    Result,
    Step,
    Vector,
    described,
    require_same_shape,
)

Sentence = Annotated[str, Field(min_length=1, max_length=2000)]
Word = Annotated[str, Field(min_length=1, max_length=100)]
Token = Annotated[str, Field(min_length=1, max_length=40)]
START, END = "<s>", "</s>"
MAX_EXPONENT = float(np.log(np.finfo(float).max))
"""Largest x with a finite exp(x)."""
ROW_SUM_TOLERANCE = 1e-3
"""Probabilities typed by hand are rounded; a distribution may miss 1 by this much."""
MAX_VOCABULARY = 8
MAX_BEAM_WIDTH = 64


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


def log_sigmoid(x: np.ndarray) -> np.ndarray:
    """log σ(x) = −log(1 + e^(−x)), never log 0 nor an overflowing exponential."""
    return -np.logaddexp(0.0, -x)


RowIndex = Annotated[int, Field(ge=0, le=MAX_ELEMENTS - 1)]
CENTER = {
    "en": "Input vector v_{w_I} of the centre word (length D)",
    "ja": "中心語の入力ベクトル v_{w_I}（長さ D）",
}


def require_row_index(inputs: Inputs, name: str, matrix: str, size: str) -> None:
    """Raise InvalidInput on `name` unless it numbers a row of `matrix` (the vocabulary)."""
    rows = len(getattr(inputs, matrix))
    if getattr(inputs, name) >= rows:
        raise InvalidInput(
            name, f"must be below the vocabulary size {size} = {rows} (rows of {matrix}, from 0)"
        )


class EmbeddingLookupInputs(Inputs):
    embedding: Matrix = described(
        en="Embedding matrix E, one row per word of the vocabulary (V×D)",
        ja="埋め込み行列 E。語彙の 1 語につき 1 行（V×D）",
    )
    token_id: RowIndex = described(
        en="Index of the word in the vocabulary (0-based, as in PyTorch)",
        ja="語彙の中での単語の番号（PyTorch と同じく 0 始まり）",
    )

    @model_validator(mode="after")
    def _index_in_vocabulary(self) -> "EmbeddingLookupInputs":
        require_row_index(self, "token_id", "embedding", "V")
        return self


def _sample_embedding_lookup(rng: np.random.Generator) -> dict[str, Any]:
    return {
        "embedding": rng.integers(-3, 4, size=(4, 3)).astype(float).tolist(),
        "token_id": int(rng.integers(4)),
    }


@calculator(
    "embedding-lookup",
    outputs=("vector", "one_hot"),
    sample=_sample_embedding_lookup,
    answer="vector[0]",
)
def embedding_lookup(inputs: EmbeddingLookupInputs) -> Result:
    embedding = np.asarray(inputs.embedding)
    one_hot = np.zeros(len(embedding), dtype=int)
    one_hot[inputs.token_id] = 1
    vector = one_hot @ embedding
    return Result(
        {"vector": vector, "one_hot": one_hot},
        [
            Step("o_w (one-hot)", one_hot),
            Step("e_w = o_wᵀ E = E[w, :]", vector),
        ],
    )


class SkipGramInputs(Inputs):
    center: Vector = described(**CENTER)
    output_vectors: Matrix = described(
        en="Output vectors v′_w, one row per word of the vocabulary (W×D)",
        ja="出力ベクトル v′_w。語彙の 1 語につき 1 行（W×D）",
    )
    context: RowIndex = described(
        en="Index w_O of the context word (0-based row of output_vectors)",
        ja="文脈語の番号 w_O（output_vectors の行番号、0 始まり）",
    )

    @model_validator(mode="after")
    def _shapes(self) -> "SkipGramInputs":
        require_shape(self, "output_vectors", (len(self.output_vectors), len(self.center)), "W×D")
        require_row_index(self, "context", "output_vectors", "W")
        return self


def _sample_skip_gram(rng: np.random.Generator) -> dict[str, Any]:
    return {
        "center": rng.choice([-1.0, 0.0, 0.5, 1.0], size=2).tolist(),
        "output_vectors": rng.integers(-1, 2, size=(3, 2)).astype(float).tolist(),
        "context": int(rng.integers(3)),
    }


@calculator(
    "skip-gram-softmax",
    outputs=("probability", "probabilities", "scores"),
    sample=_sample_skip_gram,
    answer="probability",
)
def skip_gram_softmax(inputs: SkipGramInputs) -> Result:
    scores = np.asarray(inputs.output_vectors) @ np.asarray(inputs.center)
    probabilities = stable_softmax(scores)
    return Result(
        {
            "probability": probabilities[inputs.context],
            "probabilities": probabilities,
            "scores": scores,
        },
        [
            Step("v′_wᵀ v_{w_I}  for every word w", scores),
            Step("p(w | w_I) = softmax over the vocabulary", probabilities),
            Step("p(w_O | w_I)", probabilities[inputs.context]),
        ],
    )


class NegativeSamplingInputs(Inputs):
    center: Vector = described(**CENTER)
    context_vector: Vector = described(
        en="Output vector v′_{w_O} of the observed context word (length D)",
        ja="実際に現れた文脈語の出力ベクトル v′_{w_O}（長さ D）",
    )
    negative_vectors: Matrix = described(
        en="Output vectors v′_{w_i} of the k sampled noise words, one per row (k×D)",
        ja="サンプルした k 個のノイズ語の出力ベクトル v′_{w_i}。1 行に 1 語（k×D）",
    )

    @model_validator(mode="after")
    def _shapes(self) -> "NegativeSamplingInputs":
        d = len(self.center)
        require_shape(self, "context_vector", (d,), "D, like center")
        require_shape(self, "negative_vectors", (len(self.negative_vectors), d), "k×D")
        return self


def _sample_negative_sampling(rng: np.random.Generator) -> dict[str, Any]:
    return {
        "center": rng.choice([-1.0, 0.0, 1.0], size=2).tolist(),
        "context_vector": rng.choice([0.0, 0.5, 1.0], size=2).tolist(),
        "negative_vectors": rng.choice([-1.0, 0.0, 0.5, 1.0], size=(2, 2)).tolist(),
    }


@calculator(
    "negative-sampling",
    outputs=("loss", "positive_probability", "negative_probabilities"),
    sample=_sample_negative_sampling,
    answer="loss",
)
def negative_sampling(inputs: NegativeSamplingInputs) -> Result:
    center = np.asarray(inputs.center)
    positive = float(np.asarray(inputs.context_vector) @ center)
    negatives = np.asarray(inputs.negative_vectors) @ center
    positive_term = log_sigmoid(np.asarray(positive))
    negative_terms = log_sigmoid(-negatives)
    loss = -(positive_term + negative_terms.sum())
    return Result(
        {
            "loss": loss,
            "positive_probability": logistic(np.asarray(positive)),
            "negative_probabilities": logistic(negatives),
        },
        [
            Step("v′_{w_O}ᵀ v_{w_I}", positive),
            Step("v′_{w_i}ᵀ v_{w_I},  i = 1…k", negatives),
            Step("log σ(v′_{w_O}ᵀ v_{w_I})", positive_term),
            Step("log σ(−v′_{w_i}ᵀ v_{w_I})", negative_terms),
            Step("L = −log σ(v′_{w_O}ᵀ v_{w_I}) − Σ_i log σ(−v′_{w_i}ᵀ v_{w_I})", loss),
        ],
    )


class GloveInputs(Inputs):
    cooccurrence: Matrix = described(
        en="Co-occurrence counts X_ij ≥ 0: row i a word, column j a context word (V×C)",
        ja="共起回数 X_ij ≥ 0。行 i が単語、列 j が文脈語（V×C）",
    )
    w: Matrix = described(en="Word vectors w_i, one per row (V×D)", ja="単語ベクトル w_i（V×D）")
    w_context: Matrix = described(
        en="Context vectors w̃_j, one per row (C×D)", ja="文脈ベクトル w̃_j（C×D）"
    )
    b: Vector = described(en="Word biases b_i (length V)", ja="単語のバイアス b_i（長さ V）")
    b_context: Vector = described(
        en="Context biases b̃_j (length C)", ja="文脈語のバイアス b̃_j（長さ C）"
    )
    x_max: Real = described(
        100.0,
        gt=0,
        en="Cut-off x_max of the weighting f (paper: 100)",
        ja="重み f の上限 x_max（論文は 100）",
    )
    alpha: Real = described(
        0.75,
        gt=0,
        le=10,
        en="Exponent α of the weighting f (paper: 3/4)",
        ja="重み f の指数 α（論文は 3/4）",
    )

    @model_validator(mode="after")
    def _shapes_and_counts(self) -> "GloveInputs":
        v, c = np.shape(self.cooccurrence)
        d = len(self.w[0])
        require_shape(self, "w", (v, d), f"one row per row of cooccurrence, V = {v}")
        require_shape(self, "w_context", (c, d), f"C = {c} rows, D = {d} columns like w")
        require_shape(self, "b", (v,), f"V = {v}")
        require_shape(self, "b_context", (c,), f"C = {c}")
        counts = np.asarray(self.cooccurrence)
        if (counts < 0).any():
            raise InvalidInput("cooccurrence", "counts cannot be negative")
        if not (counts > 0).any():
            raise InvalidInput("cooccurrence", "all counts are 0: there is no pair to fit")
        return self


def _sample_glove(rng: np.random.Generator) -> dict[str, Any]:
    counts = rng.integers(0, 2, size=(2, 2))
    counts[rng.integers(2), rng.integers(2)] = 1  # at least one pair to fit
    return {
        "cooccurrence": counts.astype(float).tolist(),
        "w": rng.choice([-1.0, 0.0, 1.0], size=(2, 1)).tolist(),
        "w_context": rng.choice([-1.0, 0.0, 1.0], size=(2, 1)).tolist(),
        "b": rng.choice([0.0, 0.5], size=2).tolist(),
        "b_context": rng.choice([0.0, 0.5], size=2).tolist(),
        "x_max": 1.0,
    }


@calculator("glove-loss", outputs=("loss", "weights"), sample=_sample_glove, answer="loss")
def glove_loss(inputs: GloveInputs) -> Result:
    counts = np.asarray(inputs.cooccurrence)
    observed = counts > 0
    weights = np.where(counts < inputs.x_max, (counts / inputs.x_max) ** inputs.alpha, 1.0)
    fitted = (
        np.asarray(inputs.w) @ np.asarray(inputs.w_context).T
        + np.asarray(inputs.b)[:, None]
        + np.asarray(inputs.b_context)[None, :]
    )
    log_counts = np.log(np.where(observed, counts, 1.0))
    errors = np.where(observed, fitted - log_counts, 0.0)
    loss = (weights * errors**2).sum()
    return Result(
        {"loss": loss, "weights": weights},
        [
            Step("f(X_ij) = (X_ij / x_max)^α if X_ij < x_max, else 1", weights),
            Step("w_iᵀ w̃_j + b_i + b̃_j", fitted),
            Step("w_iᵀ w̃_j + b_i + b̃_j − log X_ij  (pairs with X_ij = 0 skipped: 0)", errors),
            Step("J = Σ_ij f(X_ij) (w_iᵀ w̃_j + b_i + b̃_j − log X_ij)²", loss),
        ],
    )


class CosineSimilarityInputs(Inputs):
    a: Vector = described(en="Vector a (not all zero)", ja="ベクトル a（零ベクトル以外）")
    b: Vector = described(
        en="Vector b, same length as a (not all zero)",
        ja="ベクトル b（a と同じ長さ、零ベクトル以外）",
    )

    @model_validator(mode="after")
    def _same_length_non_zero(self) -> "CosineSimilarityInputs":
        require_same_shape(self, "a", "b")
        for name in ("a", "b"):
            if not any(getattr(self, name)):
                raise InvalidInput(name, "is the zero vector: it has no direction, so cos is 0/0")
        return self


def _sample_cosine_similarity(rng: np.random.Generator) -> dict[str, Any]:
    a = rng.integers(-3, 4, size=2)
    b = rng.integers(-3, 4, size=2)
    a[rng.integers(2)] = rng.choice([-2, -1, 1, 2])  # never the zero vector
    b[rng.integers(2)] = rng.choice([-2, -1, 1, 2])
    return {"a": a.astype(float).tolist(), "b": b.astype(float).tolist()}


@calculator(
    "cosine-similarity",
    outputs=("cosine",),
    sample=_sample_cosine_similarity,
    answer="cosine",
)
def cosine_similarity(inputs: CosineSimilarityInputs) -> Result:
    a, b = np.asarray(inputs.a), np.asarray(inputs.b)
    # Divide by the largest magnitude first, so that neither the squares underflow nor
    # their sum overflows; the cosine does not change under positive rescaling.
    a_unit, b_unit = a / np.abs(a).max(), b / np.abs(b).max()
    dot = float(a @ b)
    norm_a, norm_b = float(np.linalg.norm(a)), float(np.linalg.norm(b))
    cosine = float(a_unit @ b_unit / (np.linalg.norm(a_unit) * np.linalg.norm(b_unit)))
    cosine = min(1.0, max(-1.0, cosine))
    return Result(
        {"cosine": cosine},
        [
            Step("a · b", dot),
            Step("‖a‖", norm_a),
            Step("‖b‖", norm_b),
            Step("cos θ = a · b / (‖a‖ ‖b‖)", cosine),
        ],
    )


class BigramInputs(Inputs):
    corpus: list[Sentence] = described(
        min_length=1,
        max_length=500,
        en="Training sentences, one per line (tokens separated by spaces)",
        ja="学習用の文。1 行に 1 文（トークンは空白区切り）",
    )
    previous: Word = described(en="Previous word w_{n−1}", ja="直前の単語 w_{n−1}")
    word: Word = described(en="Next word w_n", ja="次の単語 w_n")
    markers: bool = described(
        True,
        en="Wrap every sentence in <s> … </s> (as Jurafsky & Martin do)",
        ja="各文を <s> … </s> で囲む（Jurafsky & Martin と同じ）",
    )

    @model_validator(mode="after")
    def _single_words(self) -> "BigramInputs":
        for name in ("previous", "word"):
            if len(getattr(self, name).split()) != 1:
                raise InvalidInput(name, "must be exactly one word (no spaces)")
        return self


SAM_CORPUS = ["I am Sam", "Sam I am", "I do not like green eggs and ham"]
SAM_QUERIES = [
    ("<s>", "I"),
    ("<s>", "Sam"),
    ("I", "am"),
    ("Sam", "</s>"),
    ("am", "Sam"),
    ("I", "do"),
    ("am", "</s>"),
]


def _sample_bigram(rng: np.random.Generator) -> dict[str, Any]:
    previous, word = SAM_QUERIES[rng.integers(len(SAM_QUERIES))]
    return {"corpus": SAM_CORPUS, "previous": previous, "word": word, "markers": True}


@calculator(
    "bigram-probability",
    outputs=("probability", "bigram_count", "context_count"),
    sample=_sample_bigram,
    answer="probability",
)
def bigram_probability(inputs: BigramInputs) -> Result:
    bigrams = Counter[tuple[str, ...]]()
    for sentence in inputs.corpus:
        tokens = sentence.split()
        if inputs.markers:
            tokens = [START, *tokens, END]
        bigrams += ngram_counts(tokens, 2)
    previous, word = inputs.previous, inputs.word
    bigram_count = bigrams[(previous, word)]
    context_count = sum(count for (first, _), count in bigrams.items() if first == previous)
    if context_count == 0:
        raise InvalidInput(
            "previous",
            f"'{previous}' is never followed by a word in the corpus: C({previous} ·) = 0, "
            "so the estimate is 0/0",
        )
    probability = bigram_count / context_count
    return Result(
        {
            "probability": probability,
            "bigram_count": bigram_count,
            "context_count": context_count,
        },
        [
            Step("C(w_{n−1} w_n)", bigram_count),
            Step("Σ_w C(w_{n−1} w) = C(w_{n−1})", context_count),
            Step("P(w_n | w_{n−1}) = C(w_{n−1} w_n) / C(w_{n−1})", probability),
        ],
    )


class PerplexityInputs(Inputs):
    token_probabilities: Vector = described(
        en="Probability the model gave each actual token, P(w_i | w_1 … w_{i−1}), each in (0, 1]",
        ja="実際のトークンそれぞれにモデルが与えた確率 P(w_i | w_1 … w_{i−1})（各 0 < p ≤ 1）",
    )

    @model_validator(mode="after")
    def _probabilities(self) -> "PerplexityInputs":
        p = np.asarray(self.token_probabilities)
        if (p > 1).any():
            raise InvalidInput("token_probabilities", "a probability cannot exceed 1")
        if (p <= 0).any():
            raise InvalidInput(
                "token_probabilities",
                "every probability must be > 0: a token with probability 0 makes log 0 = −∞ "
                "and the perplexity infinite",
            )
        return self


def _sample_perplexity(rng: np.random.Generator) -> dict[str, Any]:
    length = int(rng.integers(2, 5))
    return {"token_probabilities": rng.choice([0.5, 0.25, 0.125, 1.0], size=length).tolist()}


@calculator(
    "perplexity",
    outputs=("perplexity", "cross_entropy"),
    sample=_sample_perplexity,
    answer="perplexity",
)
def perplexity(inputs: PerplexityInputs) -> Result:
    logs = np.log(np.asarray(inputs.token_probabilities))
    cross_entropy = -logs.mean()
    if cross_entropy > MAX_EXPONENT:
        raise InvalidInput(
            "token_probabilities", "the probabilities are so small that exp(H) overflows"
        )
    value = np.exp(cross_entropy)
    return Result(
        {"perplexity": value, "cross_entropy": cross_entropy},
        [
            Step("log p_i", logs),
            Step("H = −(1/N) Σ log p_i  (nats)", cross_entropy),
            Step("PP = exp(H) = (Π p_i)^(−1/N)", value),
        ],
    )


class BeamSearchInputs(Inputs):
    vocabulary: list[Token] = described(
        min_length=2,
        max_length=MAX_VOCABULARY,
        en="Tokens, one per line, including the end token",
        ja="トークン。1 行に 1 つ（終端トークンを含む）",
    )
    first_log_probs: Vector = described(
        en="log p(y_1 = w) for each token w of the vocabulary",
        ja="語彙の各トークン w について log p(y_1 = w)",
    )
    log_probs: Matrix = described(
        en="log p(y_t = column | y_{t−1} = row), V×V (the end token's row is never used)",
        ja="log p(y_t = 列 | y_{t−1} = 行)（V×V。終端トークンの行は使われない）",
    )
    end_token: Token = described(END, en="End-of-sentence token", ja="文末トークン")
    beam_width: int = described(2, ge=1, le=MAX_BEAM_WIDTH, en="Beam width B", ja="ビーム幅 B")
    max_length: int = described(
        3,
        ge=1,
        le=MAX_VOCABULARY,
        en="Largest output length T (tokens)",
        ja="出力の最大長 T（トークン数）",
    )
    alpha: Real = described(
        1.0,
        ge=0,
        le=5,
        en="Length-normalisation exponent α (0: none)",
        ja="長さ正規化の指数 α（0 で正規化なし）",
    )
    penalty: Literal["simple", "gnmt"] = described(
        "simple",
        en="Length penalty: simple L^α, or GNMT ((5 + L)/6)^α",
        ja="長さペナルティ：simple は L^α、gnmt は ((5 + L)/6)^α",
    )

    @model_validator(mode="after")
    def _table(self) -> "BeamSearchInputs":
        v = len(self.vocabulary)
        if len(set(self.vocabulary)) != v:
            raise InvalidInput("vocabulary", "tokens must be distinct")
        if self.end_token not in self.vocabulary:
            raise InvalidInput("end_token", "must be one of the vocabulary's tokens")
        require_shape(self, "first_log_probs", (v,), f"one per token, V = {v}")
        require_shape(self, "log_probs", (v, v), f"V = {v}")
        end = self.vocabulary.index(self.end_token)
        rows = [("first_log_probs", self.first_log_probs)]
        rows += [("log_probs", row) for i, row in enumerate(self.log_probs) if i != end]
        for name, row in rows:
            _require_distribution(name, np.asarray(row))
        return self


def _require_distribution(name: str, log_probs: np.ndarray) -> None:
    if (log_probs > 0).any():
        raise InvalidInput(name, "a log-probability cannot be positive (p ≤ 1)")
    total = np.exp(log_probs).sum()
    if abs(total - 1) > ROW_SUM_TOLERANCE:
        raise InvalidInput(
            name, f"each row must be a distribution: Σ exp(log p) = {total:.6g}, not 1"
        )


NICE_ROWS = ([0.5, 0.3, 0.2], [0.6, 0.3, 0.1], [0.4, 0.4, 0.2], [0.7, 0.2, 0.1], [0.5, 0.4, 0.1])


def _sample_beam_search(rng: np.random.Generator) -> dict[str, Any]:
    def row() -> list[float]:
        probabilities = rng.permutation(NICE_ROWS[rng.integers(len(NICE_ROWS))])
        return np.log(probabilities).tolist()

    return {
        "vocabulary": ["</s>", "a", "b"],
        "first_log_probs": row(),
        "log_probs": [row(), row(), row()],
        "beam_width": 2,
        "max_length": 2,
        "alpha": 1.0,
        "penalty": "simple",
    }


def length_penalty(length: int, alpha: float, penalty: str) -> float:
    """L^α, or Wu et al.'s (5 + L)^α / (5 + 1)^α."""
    return length**alpha if penalty == "simple" else ((5 + length) / 6) ** alpha


@calculator(
    "beam-search",
    outputs=(
        "best",
        "best_score",
        "best_log_probability",
        "hypotheses",
        "scores",
        "log_probabilities",
    ),
    sample=_sample_beam_search,
    answer="best_score",
)
def beam_search(inputs: BeamSearchInputs) -> Result:
    first, table = np.asarray(inputs.first_log_probs), np.asarray(inputs.log_probs)
    end = inputs.vocabulary.index(inputs.end_token)
    beams: list[tuple[tuple[int, ...], float]] = [((), 0.0)]
    finished: list[tuple[tuple[int, ...], float]] = []
    steps = []
    for t in range(1, inputs.max_length + 1):
        candidates = [
            ((*prefix, w), log_p + float((first if t == 1 else table[prefix[-1]])[w]))
            for prefix, log_p in beams
            for w in range(len(first))
        ]
        # Highest log-probability first; ties go to the earlier tokens of the vocabulary.
        candidates.sort(key=lambda candidate: (-candidate[1], candidate[0]))
        kept = candidates[: inputs.beam_width]
        steps.append(
            Step(f"t = {t}: top B by log P", "; ".join(_text(inputs, s, p) for s, p in kept))
        )
        beams = [(s, p) for s, p in kept if s[-1] != end and t < inputs.max_length]
        finished += [(s, p) for s, p in kept if s[-1] == end or t == inputs.max_length]
        if not beams:
            break
    scored = sorted(
        (
            (log_p / length_penalty(len(s), inputs.alpha, inputs.penalty), log_p, s)
            for s, log_p in finished
        ),
        key=lambda item: (-item[0], -item[1], item[2]),
    )
    hypotheses = [[inputs.vocabulary[w] for w in s] for _, _, s in scored]
    scores = [score for score, _, _ in scored]
    log_probabilities = [log_p for _, log_p, _ in scored]
    rule = "L^α" if inputs.penalty == "simple" else "((5 + L)/6)^α"
    steps.append(Step(f"finished, ranked by log P / {rule}", "; ".join(map(" ".join, hypotheses))))
    steps.append(Step(f"log P / {rule}", scores))
    return Result(
        {
            "best": " ".join(hypotheses[0]),
            "best_score": scores[0],
            "best_log_probability": log_probabilities[0],
            "hypotheses": hypotheses,
            "scores": scores,
            "log_probabilities": log_probabilities,
        },
        steps,
    )


def _text(inputs: BeamSearchInputs, sequence: tuple[int, ...], log_p: float) -> str:
    return " ".join(inputs.vocabulary[w] for w in sequence) + f" ({log_p:.4g})"
