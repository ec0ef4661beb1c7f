"""One optimizer step against torch.optim, started from the same state, in float64."""

from typing import Any

import numpy as np
import torch
from hypothesis import given
from hypothesis import strategies as st

from tests.calculators.reference import assert_close, compute, tensor

values = st.floats(min_value=-10, max_value=10)


@st.composite
def vectors(draw: st.DrawFn, count: int, elements: Any = values) -> list[list[float]]:
    n = draw(st.integers(1, 8))
    return [draw(st.lists(elements, min_size=n, max_size=n)) for _ in range(count)]


def assert_same_step(ours: list[float], before: list[float], theirs: torch.Tensor) -> None:
    """Agreement to 1e-9 of the step taken: θ − Δ cancels digits when Δ ≫ θ or Δ ≈ θ."""
    step_size = np.abs(np.asarray(before) - theirs.numpy()).max()
    assert_close(ours, theirs, atol=1e-12 + 1e-9 * step_size)


def torch_step(
    optimizer_class: type,
    params: list[float],
    grads: list[float],
    state: dict[str, Any] | None = None,
    **options: Any,
) -> torch.Tensor:
    parameter = tensor(params).requires_grad_()
    optimizer = optimizer_class([parameter], foreach=False, **options)
    if state:
        optimizer.state[parameter].update(state)
    parameter.grad = tensor(grads)
    optimizer.step()
    return parameter.detach()


@given(vectors(2), st.floats(0, 1))
def test_sgd_matches_torch(vectors_: list[list[float]], lr: float) -> None:
    params, grads = vectors_
    assert_close(
        compute("sgd", params=params, grads=grads, lr=lr)["params"],
        torch_step(torch.optim.SGD, params, grads, lr=lr),
    )


@given(vectors(3), st.floats(1e-3, 1), st.floats(0, 0.99))
def test_momentum_matches_torch_with_the_buffer_rescaled(
    vectors_: list[list[float]], lr: float, momentum: float
) -> None:
    params, grads, velocity = vectors_
    outputs = compute(
        "momentum", params=params, grads=grads, velocity=velocity, lr=lr, momentum=momentum
    )
    # PyTorch keeps b with θ ← θ − η b; the textbook's v is −η b (same path for fixed η).
    buffer = -tensor(velocity) / lr
    expected = torch_step(
        torch.optim.SGD, params, grads, {"momentum_buffer": buffer}, lr=lr, momentum=momentum
    )
    assert_close(outputs["params"], expected)
    assert_close(
        outputs["velocity"], [momentum * v - lr * g for v, g in zip(velocity, grads, strict=True)]
    )


@given(vectors(2), st.data(), st.floats(1e-4, 1), st.floats(0, 0.999), st.floats(1e-10, 1e-2))
def test_rmsprop_matches_torch(
    vectors_: list[list[float]], data: st.DataObject, lr: float, rho: float, eps: float
) -> None:
    params, grads = vectors_
    h = data.draw(st.lists(st.floats(0, 100), min_size=len(params), max_size=len(params)))
    outputs = compute("rmsprop", params=params, grads=grads, h=h, lr=lr, rho=rho, eps=eps)
    state = {"step": torch.tensor(0.0), "square_avg": tensor(h)}
    expected = torch_step(torch.optim.RMSprop, params, grads, state, lr=lr, alpha=rho, eps=eps)
    assert_same_step(outputs["params"], params, expected)
    assert_close(outputs["h"], rho * tensor(h) + (1 - rho) * tensor(grads) ** 2)


@given(
    vectors(3),
    st.data(),
    st.integers(1, 10_000),
    st.floats(1e-4, 1e-1),
    st.floats(0, 0.99),
    st.floats(0, 0.9999),
    st.floats(1e-10, 1e-4),
)
def test_adam_matches_torch(
    vectors_: list[list[float]],
    data: st.DataObject,
    step: int,
    lr: float,
    beta1: float,
    beta2: float,
    eps: float,
) -> None:
    params, grads, m = vectors_
    v = data.draw(st.lists(st.floats(0, 100), min_size=len(params), max_size=len(params)))
    outputs = compute(
        "adam",
        params=params,
        grads=grads,
        m=m,
        v=v,
        step=step,
        lr=lr,
        beta1=beta1,
        beta2=beta2,
        eps=eps,
    )
    state = {"step": torch.tensor(float(step - 1)), "exp_avg": tensor(m), "exp_avg_sq": tensor(v)}
    expected = torch_step(
        torch.optim.Adam, params, grads, state, lr=lr, betas=(beta1, beta2), eps=eps
    )
    assert_same_step(outputs["params"], params, expected)
    assert_close(outputs["m"], beta1 * tensor(m) + (1 - beta1) * tensor(grads))
    assert_close(outputs["v"], beta2 * tensor(v) + (1 - beta2) * tensor(grads) ** 2)


def test_adam_first_step_moves_each_parameter_by_about_the_learning_rate() -> None:
    outputs = compute(
        "adam", params=[1.0, 1.0], grads=[1e-3, 50.0], m=[0.0, 0.0], v=[0.0, 0.0], step=1, lr=0.001
    )
    assert_close([1 - p for p in outputs["params"]], [0.001, 0.001], rtol=1e-4)
