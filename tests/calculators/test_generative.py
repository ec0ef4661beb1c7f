"""Generative-model calculators against PyTorch in float64.

References: a chain of causal torch Conv1d layers (receptive field), torch BCE and
torch.distributions (VAE), Normal.rsample (reparameterization), torch BCE (GAN),
torch.nn.functional.triplet_margin_loss, and torch matrix products (Gram matrix, style loss).
"""

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from app.calculators import InvalidInput
from tests.calculators.reference import assert_close, compute, tensor

values = st.floats(min_value=-10, max_value=10)


def same_length_vectors(count: int, elements=values, max_size: int = 8):
    return st.integers(1, max_size).flatmap(
        lambda n: st.tuples(*[st.lists(elements, min_size=n, max_size=n) for _ in range(count)])
    )


def matrices(rows: int | None = None, columns: int | None = None, count: int = 1):
    """`count` matrices of one common, drawn shape."""

    def build(shape: tuple[int, int]):
        row = st.lists(values, min_size=shape[1], max_size=shape[1])
        matrix = st.lists(row, min_size=shape[0], max_size=shape[0])
        return st.tuples(*[matrix] * count)

    shape = st.tuples(
        st.just(rows) if rows else st.integers(1, 5),
        st.just(columns) if columns else st.integers(1, 6),
    )
    return shape.flatmap(build)


# --- dilated causal convolutions --------------------------------------------------------------


def torch_receptive_field(kernel_size: int, dilations: list[int]) -> int:
    """How many input samples the last output of a causal Conv1d stack depends on.

    All weights are 1, so an input sample influences the output exactly when the gradient
    of the last output with respect to it is non-zero.
    """
    length = (kernel_size - 1) * sum(dilations) + 8  # longer than the receptive field
    signal = torch.zeros(1, 1, length, requires_grad=True)
    hidden = signal
    for dilation in dilations:
        layer = torch.nn.Conv1d(1, 1, kernel_size, dilation=dilation, bias=False)
        torch.nn.init.ones_(layer.weight)
        hidden = layer(F.pad(hidden, ((kernel_size - 1) * dilation, 0)))  # left padding: causal
    hidden[0, 0, -1].backward()
    return int((signal.grad != 0).sum())


@given(st.integers(1, 4), st.integers(1, 4), st.integers(1, 2))
def test_receptive_field_matches_a_stack_of_causal_torch_convolutions(
    kernel_size: int, layers: int, stacks: int
) -> None:
    outputs = compute(
        "dilated-receptive-field", kernel_size=kernel_size, layers_per_stack=layers, stacks=stacks
    )
    assert outputs["dilations"] == [2**i for i in range(layers)] * stacks
    assert outputs["receptive_field"] == torch_receptive_field(kernel_size, outputs["dilations"])


@pytest.mark.parametrize(
    ("layers", "stacks", "receptive_field"),
    [(4, 1, 16), (10, 1, 1024), (10, 3, 3070)],  # WaveNet Fig. 3; one and three 1…512 blocks
)
def test_receptive_field_of_wavenet_stacks(layers: int, stacks: int, receptive_field: int) -> None:
    outputs = compute("dilated-receptive-field", layers_per_stack=layers, stacks=stacks)
    assert outputs["receptive_field"] == receptive_field


# --- VAE --------------------------------------------------------------------------------------

probabilities = st.floats(min_value=1e-6, max_value=1 - 1e-6)
sigmas = st.floats(min_value=1e-3, max_value=10)


@given(same_length_vectors(2, probabilities), same_length_vectors(2, values), st.data())
def test_vae_loss_matches_torch_bce_and_the_gaussian_kl_of_torch_distributions(
    reconstruction, latent, data: st.DataObject
) -> None:
    x, x_hat = reconstruction
    mu, _ = latent
    sigma = data.draw(st.lists(sigmas, min_size=len(mu), max_size=len(mu)))
    outputs = compute("vae-loss", x=x, x_hat=x_hat, mu=mu, sigma=sigma)
    bce = F.binary_cross_entropy(tensor(x_hat), tensor(x), reduction="sum")
    posterior = torch.distributions.Normal(tensor(mu), tensor(sigma))
    prior = torch.distributions.Normal(torch.zeros(len(mu)), torch.ones(len(mu)))
    kl = torch.distributions.kl_divergence(posterior, prior).sum()
    assert_close(outputs["reconstruction_loss"], bce)
    assert_close(outputs["kl"], kl)
    assert_close(outputs["loss"], bce + kl)


def test_vae_kl_vanishes_for_the_standard_normal_and_handles_exact_binary_reconstruction() -> None:
    outputs = compute("vae-loss", x=[1, 0], x_hat=[1, 0], mu=[0, 0], sigma=[1, 1])
    assert outputs == {"loss": 0.0, "reconstruction_loss": 0.0, "kl": 0.0}


@pytest.mark.parametrize(
    ("inputs", "field", "reason"),
    [
        ({"x": [1], "x_hat": [0]}, "x_hat", "log 0"),
        ({"x": [0.5], "x_hat": [1]}, "x_hat", "log 0"),
        ({"sigma": [0.0]}, "sigma", "positive"),
        ({"sigma": [1.0, 1.0]}, "sigma", "same shape as mu"),
        ({"x": [0.5, 0.5]}, "x_hat", "same shape as x"),
        ({"x": [1.5]}, "x.0", "less than or equal to 1"),
    ],
)
def test_vae_loss_refuses_inputs_outside_its_domain(inputs: dict, field: str, reason: str) -> None:
    base = {"x": [1.0], "x_hat": [0.5], "mu": [0.0], "sigma": [1.0]}
    with pytest.raises(InvalidInput) as caught:
        compute("vae-loss", **{**base, **inputs})
    assert caught.value.field == field
    assert reason in caught.value.reason


@given(same_length_vectors(2, values), st.data(), st.integers(0, 2**32 - 1))
def test_reparameterization_equals_torch_rsample_with_the_same_noise(
    vectors, data: st.DataObject, seed: int
) -> None:
    mu, _ = vectors
    sigma = data.draw(st.lists(sigmas, min_size=len(mu), max_size=len(mu)))
    torch.manual_seed(seed)
    eps = torch.randn(len(mu))
    torch.manual_seed(seed)
    expected = torch.distributions.Normal(tensor(mu), tensor(sigma)).rsample()
    assert_close(compute("reparameterization", mu=mu, sigma=sigma, eps=eps.tolist())["z"], expected)


def test_reparameterization_refuses_a_negative_sigma_and_mismatched_noise() -> None:
    with pytest.raises(InvalidInput, match="negative") as caught:
        compute("reparameterization", mu=[0.0], sigma=[-1.0], eps=[0.5])
    assert caught.value.field == "sigma"
    with pytest.raises(InvalidInput) as caught:
        compute("reparameterization", mu=[0.0], sigma=[1.0], eps=[0.5, 1.0])
    assert caught.value.field == "eps"


# --- GAN --------------------------------------------------------------------------------------

discriminator_outputs = st.lists(probabilities, min_size=1, max_size=8)


@given(discriminator_outputs, discriminator_outputs)
def test_gan_losses_match_torch_binary_cross_entropy(
    d_real: list[float], d_fake: list[float]
) -> None:
    outputs = compute("gan-value", d_real=d_real, d_fake=d_fake)
    real, fake = tensor(d_real), tensor(d_fake)
    bce_real = F.binary_cross_entropy(real, torch.ones_like(real))
    bce_fake = F.binary_cross_entropy(fake, torch.zeros_like(fake))
    assert_close(outputs["discriminator_loss"], bce_real + bce_fake)
    assert_close(outputs["value"], -(bce_real + bce_fake))
    assert_close(outputs["generator_loss_minimax"], -bce_fake)
    assert_close(
        outputs["generator_loss_non_saturating"],
        F.binary_cross_entropy(fake, torch.ones_like(fake)),
    )


def test_gan_value_at_the_equilibrium_is_minus_log_4() -> None:
    # Goodfellow et al. 2014, Theorem 1: D = 1/2 everywhere gives C(G) = −log 4.
    outputs = compute("gan-value", d_real=[0.5, 0.5], d_fake=[0.5])
    assert_close(outputs["value"], -math.log(4))


@pytest.mark.parametrize("bad", [0.0, 1.0])
def test_gan_value_refuses_a_certain_discriminator(bad: float) -> None:
    with pytest.raises(InvalidInput) as caught:
        compute("gan-value", d_real=[0.5], d_fake=[bad])
    assert caught.value.field == "d_fake.0"


# --- triplet loss -----------------------------------------------------------------------------


@given(same_length_vectors(3), st.floats(1e-3, 5))
def test_triplet_loss_unsquared_matches_torch_triplet_margin_loss(vectors, margin: float) -> None:
    anchor, positive, negative = vectors
    outputs = compute(
        "triplet-loss",
        anchor=anchor,
        positive=positive,
        negative=negative,
        margin=margin,
        squared=False,
    )
    expected = F.triplet_margin_loss(
        tensor([anchor]), tensor([positive]), tensor([negative]), margin=margin, p=2, eps=0
    )
    assert_close(outputs["loss"], expected, atol=1e-9)


@given(same_length_vectors(3), st.floats(1e-3, 5))
def test_triplet_loss_squared_matches_the_facenet_definition(vectors, margin: float) -> None:
    anchor, positive, negative = (tensor(v) for v in vectors)
    outputs = compute(
        "triplet-loss", anchor=vectors[0], positive=vectors[1], negative=vectors[2], margin=margin
    )
    expected = torch.relu(
        ((anchor - positive) ** 2).sum() - ((anchor - negative) ** 2).sum() + margin
    )
    assert_close(outputs["loss"], expected, atol=1e-9)


@pytest.mark.parametrize(
    ("squared", "loss"),
    [(True, 0.2 + 1 - 4), (False, 0.2 + 1 - 2)],  # d(a,p) = 1, d(a,n) = 2: both below zero
)
def test_triplet_loss_is_zero_once_the_negative_is_far_enough(squared: bool, loss: float) -> None:
    outputs = compute(
        "triplet-loss", anchor=[0, 0], positive=[1, 0], negative=[0, 2], squared=squared
    )
    assert outputs["loss"] == max(loss, 0) == 0


def test_triplet_loss_squared_counts_the_margin_against_squared_distances() -> None:
    outputs = compute("triplet-loss", anchor=[0, 0], positive=[0, 2], negative=[1, 1], margin=0.5)
    assert_close(outputs["loss"], 4 - 2 + 0.5)


def test_triplet_loss_refuses_embeddings_of_different_sizes() -> None:
    with pytest.raises(InvalidInput) as caught:
        compute("triplet-loss", anchor=[0, 0], positive=[1, 0], negative=[0])
    assert caught.value.field == "negative"


# --- style transfer ---------------------------------------------------------------------------


@given(matrices())
def test_gram_matrix_matches_torch(features) -> None:
    (f,) = features
    gram = compute("gram-matrix", features=f)["gram"]
    assert_close(gram, tensor(f) @ tensor(f).T)
    assert_close(gram, torch.einsum("ik,jk->ij", tensor(f), tensor(f)))


@given(matrices(count=3), st.floats(0, 10), st.floats(0, 1e4))
def test_style_transfer_loss_matches_the_gatys_definitions_in_torch(
    features, alpha: float, beta: float
) -> None:
    generated, content, style = (tensor(f) for f in features)
    outputs = compute(
        "style-transfer-loss",
        generated=features[0],
        content=features[1],
        style=features[2],
        alpha=alpha,
        beta=beta,
    )
    n, m = generated.shape
    content_loss = 0.5 * F.mse_loss(generated, content, reduction="sum")
    style_loss = F.mse_loss(generated @ generated.T, style @ style.T, reduction="sum") / (
        4 * n**2 * m**2
    )
    assert_close(outputs["content_loss"], content_loss)
    assert_close(outputs["style_loss"], style_loss)
    assert_close(outputs["total_loss"], alpha * content_loss + beta * style_loss)


def test_style_loss_is_zero_when_only_the_positions_are_permuted() -> None:
    # The Gram matrix sums over positions, so it forgets where a feature occurred.
    outputs = compute(
        "style-transfer-loss",
        generated=[[1, 2, 3], [0, 1, 0]],
        content=[[1, 2, 3], [0, 1, 0]],
        style=[[3, 1, 2], [0, 0, 1]],
    )
    assert outputs["style_loss"] == 0
    assert outputs["content_loss"] == 0


def test_style_transfer_loss_refuses_feature_maps_of_different_shapes() -> None:
    with pytest.raises(InvalidInput) as caught:
        compute("style-transfer-loss", generated=[[1, 2]], content=[[1, 2]], style=[[1], [2]])
    assert caught.value.field == "style"


def test_gram_matrix_refuses_more_filters_than_its_n_squared_entries_allow() -> None:
    features = [[1.0, 2.0]] * 65  # 130 numbers in, but a 65 × 65 Gram matrix out
    with pytest.raises(InvalidInput, match="at most 64") as caught:
        compute("gram-matrix", features=features)
    assert caught.value.field == "features"
    assert len(compute("gram-matrix", features=features[:64])["gram"]) == 64


def test_style_transfer_loss_refuses_more_than_64_filters() -> None:
    features = [[1.0, 2.0]] * 65
    with pytest.raises(InvalidInput, match="at most 64") as caught:
        compute("style-transfer-loss", generated=features, content=features, style=features)
    assert caught.value.field == "generated"


def test_triplet_loss_refuses_a_margin_that_is_not_positive() -> None:
    with pytest.raises(InvalidInput, match="greater than 0") as caught:
        compute("triplet-loss", anchor=[0], positive=[1], negative=[2], margin=0)
    assert caught.value.field == "margin"
