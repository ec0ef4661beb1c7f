"""One optimizer step against torch.optim, started from the same state, in float64."""

from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from app.calculators import InvalidInput
from tests.calculators.reference import assert_close, compute, tensor

values = st.floats(min_value=-10, max_value=10)


@st.composite
def vectors(draw: st.DrawFn, count: int, elements: Any = values) -> list[list[float]]:
    n = draw(st.integers(1, 8))
    return [draw(st.lists(elements, min_size=n, max_size=n)) for _ in range(count)]


def assert_same_step(
    ours: list[float], before: list[float], theirs: torch.Tensor, slack: float = 0.0
) -> None:
    """Agreement to 1e-9 of the step taken: θ − Δ cancels digits when Δ ≫ θ or Δ ≈ θ.

    `slack` adds what the reference's own rounding can contribute.
    """
    step_size = np.abs(np.asarray(before) - theirs.numpy()).max()
    assert_close(ours, theirs, atol=1e-12 + 1e-9 * step_size + slack)


def adam_lerp_slack(
    m: list[float],
    grads: list[float],
    v: list[float],
    step: int,
    lr: float,
    beta1: float,
    beta2: float,
    eps: float,
) -> float:
    """How far torch's step can drift from the exact one through its first moment.

    torch updates m as m + (1 − β₁)(g − m) (lerp), which loses up to a few ulp of
    max(|m|, |g|) when β₁ is tiny; we compute β₁m + (1 − β₁)g. The difference reaches θ
    multiplied by η / ((1 − β₁ᵗ)(√v̂ + ε)).
    """
    scale = np.maximum(np.abs(m), np.abs(grads))
    v_hat = (beta2 * np.asarray(v) + (1 - beta2) * np.square(grads)) / (1 - beta2**step)
    gain = lr / (1 - beta1**step) / (np.sqrt(v_hat) + eps)
    return float(np.max(4 * np.finfo(float).eps * scale * gain))


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
    slack = adam_lerp_slack(m, grads, v, step, lr, beta1, beta2, eps)
    assert_same_step(outputs["params"], params, expected, slack)
    assert_close(outputs["m"], beta1 * tensor(m) + (1 - beta1) * tensor(grads))
    assert_close(outputs["v"], beta2 * tensor(v) + (1 - beta2) * tensor(grads) ** 2)


def test_adam_first_step_moves_each_parameter_by_about_the_learning_rate() -> None:
    outputs = compute(
        "adam", params=[1.0, 1.0], grads=[1e-3, 50.0], m=[0.0, 0.0], v=[0.0, 0.0], step=1, lr=0.001
    )
    assert_close([1 - p for p in outputs["params"]], [0.001, 0.001], rtol=1e-4)


@given(vectors(3), st.floats(1e-3, 1), st.floats(0.01, 0.99))
def test_nesterov_lookahead_matches_torch_sgd_nesterov_with_the_buffer_mapping(
    vectors_: list[list[float]], lr: float, momentum: float
) -> None:
    params, grads, velocity = vectors_
    outputs = compute(
        "nesterov", params=params, grads=grads, velocity=velocity, lr=lr, momentum=momentum
    )
    # PyTorch's parameter is the look-ahead point θ + αv, and its buffer b is −v/η.
    torch_params = tensor(params) + momentum * tensor(velocity)
    buffer = -tensor(velocity) / lr
    expected = torch_step(
        torch.optim.SGD,
        torch_params.tolist(),
        grads,
        {"momentum_buffer": buffer},
        lr=lr,
        momentum=momentum,
        nesterov=True,
    )
    assert_same_step(outputs["lookahead"], torch_params.tolist(), expected)
    velocity_after = [momentum * v - lr * g for v, g in zip(velocity, grads, strict=True)]
    assert_close(outputs["velocity"], velocity_after)
    assert_close(outputs["params"], [p + v for p, v in zip(params, velocity_after, strict=True)])


def test_nesterov_lookahead_follows_the_rewrite_in_the_shifted_variable() -> None:
    # Θ = θ + αv moves by α²v − (1 + α)ηg (Bengio et al. 2013, the form in the source notes).
    params, velocity, grads, lr, alpha = [1.0, -2.0], [0.2, -0.1], [0.5, 3.0], 0.1, 0.9
    outputs = compute(
        "nesterov", params=params, grads=grads, velocity=velocity, lr=lr, momentum=alpha
    )
    expected = [
        p + alpha * v + alpha**2 * v - (1 + alpha) * lr * g
        for p, v, g in zip(params, velocity, grads, strict=True)
    ]
    assert_close(outputs["lookahead"], expected)


def test_nesterov_refuses_a_velocity_of_another_length() -> None:
    with pytest.raises(InvalidInput) as caught:
        compute("nesterov", params=[1.0, 2.0], grads=[1.0, 1.0], velocity=[0.0])
    assert caught.value.field == "velocity"
    assert "same shape" in caught.value.reason


@given(vectors(2), st.data(), st.floats(1e-4, 1), st.floats(1e-10, 1e-2))
def test_adagrad_matches_torch(
    vectors_: list[list[float]], data: st.DataObject, lr: float, eps: float
) -> None:
    params, grads = vectors_
    h = data.draw(st.lists(st.floats(0, 100), min_size=len(params), max_size=len(params)))
    outputs = compute("adagrad", params=params, grads=grads, h=h, lr=lr, eps=eps)
    state = {"step": torch.tensor(0.0), "sum": tensor(h)}
    expected = torch_step(torch.optim.Adagrad, params, grads, state, lr=lr, eps=eps)
    assert_same_step(outputs["params"], params, expected)
    assert_close(outputs["h"], tensor(h) + tensor(grads) ** 2)


def test_adagrad_first_step_is_about_the_learning_rate_for_every_gradient_size() -> None:
    outputs = compute("adagrad", params=[0.0, 0.0], grads=[1e-3, 100.0], h=[0.0, 0.0], lr=0.1)
    assert_close(outputs["params"], [-0.1, -0.1], rtol=1e-6)


def test_adagrad_refuses_a_negative_sum_of_squares() -> None:
    with pytest.raises(InvalidInput) as caught:
        compute("adagrad", params=[1.0], grads=[1.0], h=[-1.0])
    assert caught.value.field == "h"
    assert "non-negative" in caught.value.reason


@st.composite
def adamw_inputs(draw: st.DrawFn) -> dict[str, Any]:
    params, grads, m = draw(vectors(3))
    v = draw(st.lists(st.floats(0, 100), min_size=len(params), max_size=len(params)))
    return {
        "params": params,
        "grads": grads,
        "m": m,
        "v": v,
        "step": draw(st.integers(1, 10_000)),
        "lr": draw(st.floats(1e-4, 1e-1)),
        "beta1": draw(st.floats(0, 0.99)),
        "beta2": draw(st.floats(0, 0.9999)),
        "eps": 1e-8,
        "weight_decay": draw(st.floats(0, 1)),
    }


@given(adamw_inputs())
def test_adamw_matches_torch(inputs: dict[str, Any]) -> None:
    outputs = compute("adamw", **inputs)
    params, lr, beta1, step = inputs["params"], inputs["lr"], inputs["beta1"], inputs["step"]
    state = {
        "step": torch.tensor(float(step - 1)),
        "exp_avg": tensor(inputs["m"]),
        "exp_avg_sq": tensor(inputs["v"]),
    }
    betas = (beta1, inputs["beta2"])
    options = {"lr": lr, "betas": betas, "eps": 1e-8, "weight_decay": inputs["weight_decay"]}
    expected = torch_step(torch.optim.AdamW, params, inputs["grads"], state, **options)
    # torch forms m by lerp, m + (1 − β₁)(g − m), which is off by about ulp(m) when β₁ is tiny;
    # where v̂ ≈ 0 the division by ε carries that rounding into the step.
    g, m = np.asarray(inputs["grads"]), np.asarray(inputs["m"])
    v_hat = (betas[1] * np.asarray(inputs["v"]) + (1 - betas[1]) * g**2) / (1 - betas[1] ** step)
    m_rounding = 1e-15 * (np.abs(m) + np.abs(g))
    slack = (lr * m_rounding / ((1 - beta1**step) * (np.sqrt(v_hat) + 1e-8))).max()
    step_size = np.abs(np.asarray(params) - expected.numpy()).max()
    assert_close(outputs["params"], expected, atol=1e-12 + 1e-9 * step_size + slack)


def test_adamw_decay_is_not_divided_by_the_adaptive_denominator() -> None:
    # Same state, tiny gradient: Adam with an L2 term moves θ by about lr; AdamW only by lr·λ·θ.
    base = {"params": [10.0], "grads": [0.0], "m": [0.0], "v": [0.0], "step": 1, "lr": 0.01}
    decoupled = compute("adamw", **base, weight_decay=0.1)["params"][0]
    assert_close(decoupled, 10.0 * (1 - 0.01 * 0.1))
    l2 = torch_step(torch.optim.Adam, [10.0], [0.0], lr=0.01, weight_decay=0.1)
    assert_close(l2, [10.0 - 0.01], rtol=1e-6)


def test_adamw_without_decay_is_adam() -> None:
    base = {"params": [1.0, -2.0], "grads": [0.3, 4.0], "m": [0.1, 0.0], "v": [0.2, 1.0]}
    assert compute("adamw", **base, step=3, weight_decay=0.0) == compute("adam", **base, step=3)


def scheduler_lr(scheduler_class: type, epoch: int, lr: float, **options: Any) -> float:
    """The learning rate after `epoch` scheduler steps, as torch's scheduler computes it."""
    optimizer = torch.optim.SGD([tensor([0.0]).requires_grad_()], lr=lr)
    scheduler = scheduler_class(optimizer, **options)
    for _ in range(epoch):
        optimizer.step()
        scheduler.step()
    return scheduler.get_last_lr()[0]


@given(st.floats(0, 10), st.integers(0, 120), st.integers(1, 40), st.floats(0.01, 1))
def test_step_decay_matches_torch_step_lr(
    lr: float, epoch: int, step_size: int, gamma: float
) -> None:
    outputs = compute("step-decay", lr=lr, epoch=epoch, step_size=step_size, gamma=gamma)
    expected = scheduler_lr(
        torch.optim.lr_scheduler.StepLR, epoch, lr, step_size=step_size, gamma=gamma
    )
    assert_close(outputs["lr"], expected)


def test_step_decay_drops_only_at_multiples_of_the_step_size() -> None:
    rates = [
        compute("step-decay", lr=0.1, epoch=t, step_size=30, gamma=0.1)["lr"] for t in (29, 30, 60)
    ]
    assert_close(rates, [0.1, 0.01, 0.001])


@given(st.floats(0, 10), st.integers(0, 120), st.floats(0.01, 1))
def test_exponential_decay_matches_torch_exponential_lr(
    lr: float, epoch: int, gamma: float
) -> None:
    outputs = compute("exponential-decay", lr=lr, epoch=epoch, gamma=gamma)
    expected = scheduler_lr(torch.optim.lr_scheduler.ExponentialLR, epoch, lr, gamma=gamma)
    assert_close(outputs["lr"], expected, atol=1e-300)


@given(st.floats(1e-3, 10), st.floats(0, 1e-3), st.integers(1, 40), st.data())
def test_cosine_annealing_matches_torch_cosine_annealing_lr(
    lr: float, eta_min: float, t_max: int, data: st.DataObject
) -> None:
    epoch = data.draw(st.integers(0, 3 * t_max))
    outputs = compute("cosine-annealing", lr=lr, eta_min=eta_min, t_max=t_max, epoch=epoch)
    expected = scheduler_lr(
        torch.optim.lr_scheduler.CosineAnnealingLR, epoch, lr, T_max=t_max, eta_min=eta_min
    )
    # torch updates recursively; near η_min its rounding is absolute, of the order of lr·1e-15.
    assert_close(outputs["lr"], expected, atol=1e-12 * lr)


def test_cosine_annealing_reaches_half_way_at_half_the_period() -> None:
    values = [
        compute("cosine-annealing", lr=1.0, eta_min=0.2, t_max=10, epoch=t)["lr"]
        for t in (0, 5, 10, 20)
    ]
    assert_close(values, [1.0, 0.6, 0.2, 1.0])


@pytest.mark.parametrize(
    ("calculator_id", "inputs", "field"),
    [
        ("step-decay", {"lr": 0.1, "epoch": 1, "step_size": 0}, "step_size"),
        ("step-decay", {"lr": 0.1, "epoch": -1, "step_size": 3}, "epoch"),
        ("exponential-decay", {"lr": 0.1, "epoch": 1, "gamma": 1.5}, "gamma"),
        ("exponential-decay", {"lr": 0.1, "epoch": 1, "gamma": 0.0}, "gamma"),
        ("cosine-annealing", {"lr": 0.1, "t_max": 0, "epoch": 0}, "t_max"),
        ("gradient-clipping", {"grads": [1.0], "max_norm": 0.0}, "max_norm"),
        ("weight-init", {"fan_in": 0, "fan_out": 3}, "fan_in"),
        ("adamw", {"params": [1.0], "grads": [1.0], "m": [0.0], "v": [-1.0], "step": 1}, "v"),
    ],
)
def test_out_of_range_inputs_are_refused_naming_the_field(
    calculator_id: str, inputs: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        compute(calculator_id, **inputs)
    assert caught.value.field == field


@given(
    st.lists(st.floats(-100, 100), min_size=1, max_size=12),
    st.floats(1e-3, 50),
)
def test_gradient_clipping_matches_torch_clip_grad_norm(
    grads: list[float], max_norm: float
) -> None:
    outputs = compute("gradient-clipping", grads=grads, max_norm=max_norm)
    parameter = tensor(grads).requires_grad_()
    parameter.grad = tensor(grads)
    total_norm = torch.nn.utils.clip_grad_norm_([parameter], max_norm)
    assert_close(outputs["grads"], parameter.grad)
    assert_close(outputs["total_norm"], total_norm)


def test_gradient_clipping_rescales_only_a_norm_above_the_threshold() -> None:
    long = compute("gradient-clipping", grads=[3.0, 4.0], max_norm=1.0)
    assert_close(long["total_norm"], 5.0)
    assert_close(long["grads"], [3 / (5 + 1e-6), 4 / (5 + 1e-6)])
    short = compute("gradient-clipping", grads=[0.3, 0.4], max_norm=1.0)
    assert short["grads"] == [0.3, 0.4]


def drawn_with(init: Any, fan_in: int, fan_out: int, **options: Any) -> torch.Tensor:
    weight = torch.empty(fan_out, fan_in)
    init(weight, generator=torch.Generator().manual_seed(0), **options)
    return weight


def drawn_with_std(std: float, fan_in: int, fan_out: int) -> torch.Tensor:
    weight = torch.empty(fan_out, fan_in)
    return weight.normal_(0.0, std, generator=torch.Generator().manual_seed(0))


@given(st.integers(1, 64), st.integers(1, 64))
def test_weight_init_stds_match_torch_nn_init(fan_in: int, fan_out: int) -> None:
    """Same seed, same standard normal draws: equal samples mean equal standard deviations."""
    outputs = compute("weight-init", fan_in=fan_in, fan_out=fan_out)
    init = torch.nn.init
    for name, expected in [
        ("xavier_std", drawn_with(init.xavier_normal_, fan_in, fan_out)),
        ("he_std", drawn_with(init.kaiming_normal_, fan_in, fan_out, nonlinearity="relu")),
        (
            "xavier_simple_std",
            drawn_with(init.kaiming_normal_, fan_in, fan_out, nonlinearity="linear"),
        ),
    ]:
        assert_close(drawn_with_std(outputs[name], fan_in, fan_out), expected)


def test_weight_init_known_values() -> None:
    outputs = compute("weight-init", fan_in=50, fan_out=150)
    assert_close(
        [outputs["xavier_std"], outputs["xavier_simple_std"], outputs["he_std"]],
        [0.1, 1 / np.sqrt(50), 0.2],
    )
