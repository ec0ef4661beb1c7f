import itertools
import math

import numpy as np
import pytest
import sacrebleu
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from app.calculators import InvalidInput
from tests.calculators.reference import assert_close, compute, tensor

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


# Word embeddings ---------------------------------------------------------------------

values = st.floats(min_value=-3, max_value=3)


def matrix_of(rows: int, columns: int, elements: st.SearchStrategy[float] = values):
    row = st.lists(elements, min_size=columns, max_size=columns)
    return st.lists(row, min_size=rows, max_size=rows)


@given(st.data(), st.integers(1, 8), st.integers(1, 5))
def test_embedding_lookup_matches_torch_embedding_and_one_hot_product(
    data: st.DataObject, vocabulary: int, dimension: int
) -> None:
    embedding = data.draw(matrix_of(vocabulary, dimension))
    token = data.draw(st.integers(0, vocabulary - 1))
    outputs = compute("embedding-lookup", embedding=embedding, token_id=token)
    weights = tensor(embedding)
    assert_close(outputs["vector"], F.embedding(torch.tensor(token), weights))
    one_hot = F.one_hot(torch.tensor(token), vocabulary)
    assert outputs["one_hot"] == one_hot.tolist()
    assert_close(outputs["vector"], one_hot.double() @ weights)


def test_embedding_lookup_refuses_a_word_outside_the_vocabulary() -> None:
    with pytest.raises(InvalidInput) as caught:
        compute("embedding-lookup", embedding=[[1.0], [2.0]], token_id=2)
    assert caught.value.field == "token_id"
    assert "V = 2" in caught.value.reason


@given(st.data(), st.integers(1, 8), st.integers(1, 5))
def test_skip_gram_probability_matches_torch_softmax(
    data: st.DataObject, vocabulary: int, dimension: int
) -> None:
    center = data.draw(st.lists(values, min_size=dimension, max_size=dimension))
    output_vectors = data.draw(matrix_of(vocabulary, dimension))
    context = data.draw(st.integers(0, vocabulary - 1))
    outputs = compute(
        "skip-gram-softmax", center=center, output_vectors=output_vectors, context=context
    )
    expected = torch.softmax(tensor(output_vectors) @ tensor(center), 0)
    assert_close(outputs["probabilities"], expected)
    assert_close(outputs["probability"], expected[context])


def test_skip_gram_refuses_a_context_word_outside_the_vocabulary() -> None:
    with pytest.raises(InvalidInput) as caught:
        compute("skip-gram-softmax", center=[1.0], output_vectors=[[1.0]], context=1)
    assert caught.value.field == "context"


@given(st.data(), st.integers(1, 5), st.integers(1, 6))
def test_negative_sampling_loss_matches_torch_logsigmoid_and_logistic_regression(
    data: st.DataObject, dimension: int, k: int
) -> None:
    wide = st.floats(-20, 20)
    center = data.draw(st.lists(wide, min_size=dimension, max_size=dimension))
    context_vector = data.draw(st.lists(wide, min_size=dimension, max_size=dimension))
    negatives = data.draw(matrix_of(k, dimension, wide))
    outputs = compute(
        "negative-sampling",
        center=center,
        context_vector=context_vector,
        negative_vectors=negatives,
    )
    v, u_o, u_k = tensor(center), tensor(context_vector), tensor(negatives)
    # Mikolov et al. (2013), eq. 4, negated into a loss.
    objective = F.logsigmoid(u_o @ v) + F.logsigmoid(-(u_k @ v)).sum()
    assert_close(outputs["loss"], -objective)
    # The same loss is the logistic-regression (binary cross-entropy) loss of
    # labelling the context word 1 and every noise word 0.
    logits = torch.cat([(u_o @ v).reshape(1), u_k @ v])
    labels = torch.cat([torch.ones(1), torch.zeros(k)])
    assert_close(
        outputs["loss"], F.binary_cross_entropy_with_logits(logits, labels, reduction="sum")
    )
    assert_close(outputs["positive_probability"], torch.sigmoid(u_o @ v))
    assert_close(outputs["negative_probabilities"], torch.sigmoid(u_k @ v))


def test_negative_sampling_refuses_noise_vectors_of_another_dimension() -> None:
    with pytest.raises(InvalidInput) as caught:
        compute(
            "negative-sampling",
            center=[1.0, 0.0],
            context_vector=[1.0, 0.0],
            negative_vectors=[[1.0]],
        )
    assert caught.value.field == "negative_vectors"


def glove_by_definition(inputs: dict) -> float:
    """Pennington et al. (2014), eqs. 8 and 9, summed pair by pair."""
    total = 0.0
    for i, row in enumerate(inputs["cooccurrence"]):
        for j, count in enumerate(row):
            if count == 0:
                continue
            weight = (count / inputs["x_max"]) ** inputs["alpha"] if count < inputs["x_max"] else 1
            fitted = sum(a * b for a, b in zip(inputs["w"][i], inputs["w_context"][j], strict=True))
            error = fitted + inputs["b"][i] + inputs["b_context"][j] - math.log(count)
            total += weight * error**2
    return total


@st.composite
def glove_inputs(draw: st.DrawFn) -> dict:
    v, c, d = draw(st.integers(1, 5)), draw(st.integers(1, 5)), draw(st.integers(1, 4))
    counts = draw(matrix_of(v, c, st.sampled_from([0.0, 1.0, 2.0, 7.0, 99.0, 100.0, 350.0])))
    counts[0][0] = draw(st.sampled_from([1.0, 3.0, 150.0]))
    return {
        "cooccurrence": counts,
        "w": draw(matrix_of(v, d)),
        "w_context": draw(matrix_of(c, d)),
        "b": draw(st.lists(values, min_size=v, max_size=v)),
        "b_context": draw(st.lists(values, min_size=c, max_size=c)),
        "x_max": draw(st.sampled_from([1.0, 10.0, 100.0])),
        "alpha": draw(st.sampled_from([0.5, 0.75, 1.0])),
    }


@given(glove_inputs())
def test_glove_loss_matches_the_weighted_least_squares_definition(inputs: dict) -> None:
    assert_close(compute("glove-loss", **inputs)["loss"], glove_by_definition(inputs))


def test_glove_weighting_function_of_the_paper() -> None:
    counts = [[1.0, 50.0, 100.0, 1000.0]]
    outputs = compute(
        "glove-loss",
        cooccurrence=counts,
        w=[[0.0]],
        w_context=[[0.0]] * 4,
        b=[0.0],
        b_context=[0.0] * 4,
    )
    # f(x) = (x / 100)^(3/4) below x_max = 100, and 1 from there on.
    assert_close(outputs["weights"], [[0.01**0.75, 0.5**0.75, 1.0, 1.0]])


@pytest.mark.parametrize(("counts", "reason"), [([[-1.0]], "negative"), ([[0.0]], "no pair")])
def test_glove_refuses_counts_it_cannot_fit(counts: list[list[float]], reason: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        compute(
            "glove-loss", cooccurrence=counts, w=[[1.0]], w_context=[[1.0]], b=[0], b_context=[0]
        )
    assert caught.value.field == "cooccurrence"
    assert reason in caught.value.reason


# Cosine similarity ---------------------------------------------------------------------


@st.composite
def vector_pairs(draw: st.DrawFn) -> tuple[list[float], list[float]]:
    n = draw(st.integers(1, 20))
    elements = st.floats(-1e6, 1e6)
    pair = [draw(st.lists(elements, min_size=n, max_size=n)) for _ in range(2)]
    for vector in pair:  # keep each norm far above torch's eps = 1e-8
        vector[draw(st.integers(0, n - 1))] = draw(st.sampled_from([-1.0, 1.0, 2.5]))
    return pair[0], pair[1]


@given(vector_pairs())
def test_cosine_similarity_matches_torch(pair: tuple[list[float], list[float]]) -> None:
    a, b = pair
    expected = F.cosine_similarity(tensor(a), tensor(b), dim=0)
    assert_close(compute("cosine-similarity", a=a, b=b)["cosine"], expected, atol=1e-12)


@pytest.mark.parametrize(
    ("a", "b", "cosine"),
    [
        ([1, 0], [0, 1], 0.0),
        ([1, 2], [2, 4], 1.0),
        ([1, 2], [-3, -6], -1.0),
        ([3, 4], [4, 3], 0.96),
    ],
)
def test_cosine_similarity_known_angles(a, b, cosine) -> None:
    assert_close(compute("cosine-similarity", a=a, b=b)["cosine"], cosine)


def test_cosine_similarity_survives_the_largest_and_smallest_inputs() -> None:
    assert_close(compute("cosine-similarity", a=[1e12] * 4096, b=[1e12] * 4096)["cosine"], 1.0)
    assert_close(
        compute("cosine-similarity", a=[1e-300, 0], b=[1e-300, 1e-300])["cosine"], 0.5**0.5
    )


def test_cosine_similarity_refuses_the_zero_vector() -> None:
    with pytest.raises(InvalidInput) as caught:
        compute("cosine-similarity", a=[1.0, 2.0], b=[0.0, 0.0])
    assert caught.value.field == "b"
    assert "0/0" in caught.value.reason


# n-gram language model and perplexity --------------------------------------------------

SAM = ["I am Sam", "Sam I am", "I do not like green eggs and ham"]


@pytest.mark.parametrize(
    ("previous", "word", "probability"),
    [
        ("<s>", "I", 2 / 3),
        ("<s>", "Sam", 1 / 3),
        ("I", "am", 2 / 3),
        ("Sam", "</s>", 1 / 2),
        ("am", "Sam", 1 / 2),
        ("I", "do", 1 / 3),
    ],
)
def test_bigram_probabilities_of_the_jurafsky_martin_example(previous, word, probability) -> None:
    outputs = compute("bigram-probability", corpus=SAM, previous=previous, word=word)
    assert_close(outputs["probability"], probability)


sentences_of_words = st.lists(
    st.lists(st.sampled_from(["a", "b", "c", "d"]), min_size=1, max_size=6).map(" ".join),
    min_size=1,
    max_size=5,
)


@given(
    sentences_of_words, st.sampled_from(["<s>", "a", "b", "c"]), st.sampled_from(["a", "b", "</s>"])
)
def test_bigram_probability_is_the_relative_frequency_of_the_pair(
    corpus: list[str], previous: str, word: str
) -> None:
    tokens = [t for sentence in corpus for t in ["<s>", *sentence.split(), "</s>"]]
    pairs = [
        pair for pair in itertools.pairwise(tokens) if pair != ("</s>", "<s>")
    ]  # sentences are separate
    context = sum(first == previous for first, _ in pairs)
    if context == 0:
        with pytest.raises(InvalidInput):
            compute("bigram-probability", corpus=corpus, previous=previous, word=word)
        return
    outputs = compute("bigram-probability", corpus=corpus, previous=previous, word=word)
    assert outputs["bigram_count"] == pairs.count((previous, word))
    assert outputs["context_count"] == context == tokens.count(previous)
    assert_close(outputs["probability"], pairs.count((previous, word)) / context)


def test_bigram_without_markers_counts_only_words_that_are_followed() -> None:
    outputs = compute("bigram-probability", corpus=SAM, previous="am", word="Sam", markers=False)
    assert (outputs["bigram_count"], outputs["context_count"]) == (1, 1)


@pytest.mark.parametrize(
    ("previous", "word", "field"), [("zebra", "a", "previous"), ("I", "am Sam", "word")]
)
def test_bigram_refuses_an_unseen_context_or_several_words(previous, word, field) -> None:
    with pytest.raises(InvalidInput) as caught:
        compute("bigram-probability", corpus=SAM, previous=previous, word=word)
    assert caught.value.field == field


@given(st.lists(st.floats(min_value=1e-300, max_value=1.0), min_size=1, max_size=50))
def test_perplexity_is_the_exponential_of_the_mean_negative_log_likelihood(p: list[float]) -> None:
    probabilities = tensor(p)
    # nll_loss on log-probabilities, as a language model's cross-entropy loss is computed.
    log_probs = torch.log(probabilities).unsqueeze(1)
    cross_entropy = F.nll_loss(log_probs, torch.zeros(len(p), dtype=torch.long))
    outputs = compute("perplexity", token_probabilities=p)
    assert_close(outputs["cross_entropy"], cross_entropy)
    assert_close(outputs["perplexity"], torch.exp(cross_entropy))


def test_perplexity_of_a_uniform_guess_is_the_number_of_choices() -> None:
    assert_close(compute("perplexity", token_probabilities=[0.25] * 7)["perplexity"], 4.0)
    assert_close(compute("perplexity", token_probabilities=[0.5, 0.25, 0.125])["perplexity"], 4.0)


@pytest.mark.parametrize(
    ("p", "reason"), [([0.5, 0.0], "> 0"), ([1.5], "exceed 1"), ([1e-320], "overflows")]
)
def test_perplexity_refuses_impossible_probabilities(p: list[float], reason: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        compute("perplexity", token_probabilities=p)
    assert caught.value.field == "token_probabilities"
    assert reason in caught.value.reason


# Beam search -----------------------------------------------------------------------------

VOCABULARY = ["</s>", "a", "b", "c"]


@st.composite
def tables(draw: st.DrawFn, size: int = 4) -> dict:
    def row() -> list[float]:
        weights = draw(st.lists(st.floats(0.05, 1.0), min_size=size, max_size=size))
        return np.log(np.asarray(weights) / sum(weights)).tolist()

    return {
        "vocabulary": VOCABULARY[:size],
        "first_log_probs": row(),
        "log_probs": [row() for _ in range(size)],
        "max_length": draw(st.integers(1, 4)),
        "alpha": draw(st.sampled_from([0.0, 0.5, 0.7, 1.0])),
        "penalty": draw(st.sampled_from(["simple", "gnmt"])),
    }


def every_output(table: dict) -> list[tuple[float, float, str]]:
    """All sequences the search can return, scored, by enumeration (no pruning)."""
    found = []
    for length in range(1, table["max_length"] + 1):
        for sequence in itertools.product(range(len(table["vocabulary"])), repeat=length):
            if 0 in sequence[:-1] or (length < table["max_length"] and sequence[-1] != 0):
                continue  # the end token stops a sentence; shorter ones must have stopped
            log_p = table["first_log_probs"][sequence[0]] + sum(
                table["log_probs"][a][b] for a, b in itertools.pairwise(sequence)
            )
            if table["penalty"] == "simple":
                penalty = length ** table["alpha"]
            else:
                penalty = ((5 + length) / 6) ** table["alpha"]
            text = " ".join(table["vocabulary"][w] for w in sequence)
            found.append((log_p / penalty, log_p, text))
    return sorted(found, key=lambda item: (-item[0], -item[1]))


@given(tables())
def test_beam_search_as_wide_as_the_tree_finds_the_best_normalised_sentence(table: dict) -> None:
    table["max_length"] = min(table["max_length"], 3)  # at most 3² · 4 = 36 candidates a step
    outputs = compute("beam-search", beam_width=64, **table)
    everything = every_output(table)
    best_score, best_log_p, _ = everything[0]
    assert_close(outputs["best_score"], best_score)
    assert_close(outputs["best_log_probability"], best_log_p)
    found = sorted(" ".join(tokens) for tokens in outputs["hypotheses"])
    assert found == sorted(text for _, _, text in everything)


@given(tables())
def test_beam_width_one_is_greedy_decoding(table: dict) -> None:
    outputs = compute("beam-search", beam_width=1, **table)
    tokens, log_p = [int(np.argmax(table["first_log_probs"]))], max(table["first_log_probs"])
    while tokens[-1] != 0 and len(tokens) < table["max_length"]:
        row = table["log_probs"][tokens[-1]]
        tokens.append(int(np.argmax(row)))
        log_p += max(row)
    assert outputs["hypotheses"] == [[VOCABULARY[w] for w in tokens]]
    assert_close(outputs["best_log_probability"], log_p)


def test_length_normalisation_lets_a_longer_sentence_win() -> None:
    table = {
        "vocabulary": ["</s>", "a", "b"],
        "first_log_probs": np.log([0.1, 0.5, 0.4]).tolist(),
        "log_probs": np.log([[1 / 3, 1 / 3, 1 / 3], [0.45, 0.1, 0.45], [0.1, 0.8, 0.1]]).tolist(),
        "beam_width": 2,
        "max_length": 3,
    }
    raw = compute("beam-search", alpha=0.0, **table)
    normalised = compute("beam-search", alpha=1.0, **table)
    assert raw["best"] == "a </s>"  # P = 0.225 beats b a </s> with 0.144
    assert normalised["best"] == "b a </s>"  # per token: 0.144^(1/3) = 0.52 > 0.225^(1/2) = 0.47
    assert_close(normalised["best_score"], math.log(0.4 * 0.8 * 0.45) / 3)


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        ({"first_log_probs": [-1.0, -1.0, -1.0]}, "first_log_probs", "distribution"),
        ({"first_log_probs": [0.5, -2.0, -2.0]}, "first_log_probs", "positive"),
        ({"log_probs": [[0.0, -1.0, -1.0]] * 3}, "log_probs", "distribution"),
        ({"log_probs": [[-1.1, -1.1]] * 3}, "log_probs", "3×3"),
        ({"end_token": "<eos>"}, "end_token", "vocabulary"),
        ({"vocabulary": ["</s>", "a", "a"]}, "vocabulary", "distinct"),
    ],
)
def test_beam_search_refuses_tables_that_are_not_distributions(change, field, reason) -> None:
    uniform = [math.log(1 / 3)] * 3
    inputs = {
        "vocabulary": ["</s>", "a", "b"],
        "first_log_probs": uniform,
        "log_probs": [uniform] * 3,
        **change,
    }
    with pytest.raises(InvalidInput) as caught:
        compute("beam-search", **inputs)
    assert caught.value.field == field
    assert reason in caught.value.reason


def test_beam_search_ignores_the_row_after_the_end_token() -> None:
    uniform = [math.log(1 / 3)] * 3
    outputs = compute(
        "beam-search",
        vocabulary=["</s>", "a", "b"],
        first_log_probs=uniform,
        log_probs=[[0.0, 0.0, 0.0], uniform, uniform],
    )
    assert outputs["best"] == "</s>"
