"""The runner: each step is the card's calculator, and the paths match torch.optim."""

import time

import numpy as np
import pytest
import torch

from app.playground.race import PlaygroundInputs, race
from app.playground.simulation import MAX_STEPS, OPTIMIZERS, run
from app.playground.surfaces import BEALE, ROSENBROCK, SurfaceId, quadratic
from tests.calculators.reference import assert_close, compute, tensor

BY_ID = {optimizer.id: optimizer for optimizer in OPTIMIZERS}
START = (-1.2, 1.0)
STEPS = 50


def test_adam_path_is_the_adam_calculator_iterated_by_hand() -> None:
    settings = {"lr": 0.1, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}
    path = run(BY_ID["adam"], ROSENBROCK, START, settings, 30)
    params, m, v = list(START), [0.0, 0.0], [0.0, 0.0]
    expected = [tuple(params)]
    for t in range(1, 31):
        grads = ROSENBROCK.grad((params[0], params[1]))
        out = compute("adam", params=params, grads=grads, m=m, v=v, step=t, **settings)
        params, m, v = out["params"], out["m"], out["v"]
        expected.append(tuple(params))
    assert path.points == expected  # the very same floats: one code path
    assert path.losses == [ROSENBROCK.value(point) for point in expected]
    assert path.diverged_at is None


def test_nesterov_takes_its_gradient_at_the_look_ahead_point() -> None:
    settings = {"lr": 0.001, "momentum": 0.9}
    path = run(BY_ID["nesterov"], ROSENBROCK, START, settings, 3)
    params, velocity = list(START), [0.0, 0.0]
    for _ in range(3):
        ahead = (params[0] + 0.9 * velocity[0], params[1] + 0.9 * velocity[1])
        out = compute(
            "nesterov", params=params, grads=ROSENBROCK.grad(ahead), velocity=velocity, **settings
        )
        params, velocity = out["params"], out["velocity"]
    assert path.points[-1] == tuple(params)


def rosenbrock(theta: torch.Tensor) -> torch.Tensor:
    x, y = theta[0], theta[1]
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


def torch_path(optimizer: torch.optim.Optimizer, theta: torch.Tensor) -> np.ndarray:
    """θ after each of STEPS steps, with the gradient from autograd (not our formula)."""
    points = [theta.detach().clone()]
    for _ in range(STEPS):
        optimizer.zero_grad()
        rosenbrock(theta).backward()
        optimizer.step()
        points.append(theta.detach().clone())
    return torch.stack(points).numpy()


TORCH = {
    "sgd": ({"lr": 0.002}, lambda p, s: torch.optim.SGD(p, lr=s["lr"])),
    # torch keeps b = −v/η and steps θ − ηb: the same path as the card's v for a fixed η.
    "momentum": (
        {"lr": 0.001, "momentum": 0.9},
        lambda p, s: torch.optim.SGD(p, lr=s["lr"], momentum=s["momentum"]),
    ),
    "adagrad": (
        {"lr": 0.5, "eps": 1e-10},
        lambda p, s: torch.optim.Adagrad(p, lr=s["lr"], eps=s["eps"]),
    ),
    "rmsprop": (
        {"lr": 0.01, "rho": 0.99, "eps": 1e-8},
        lambda p, s: torch.optim.RMSprop(p, lr=s["lr"], alpha=s["rho"], eps=s["eps"]),
    ),
    "adam": (
        {"lr": 0.1, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8},
        lambda p, s: torch.optim.Adam(p, lr=s["lr"], betas=(s["beta1"], s["beta2"]), eps=s["eps"]),
    ),
}


@pytest.mark.parametrize("optimizer_id", sorted(TORCH))
def test_path_on_rosenbrock_matches_torch_optim(optimizer_id: str) -> None:
    settings, make = TORCH[optimizer_id]
    path = run(BY_ID[optimizer_id], ROSENBROCK, START, settings, STEPS)
    theta = tensor(START).requires_grad_()
    expected = torch_path(make([theta], settings), theta)
    assert path.diverged_at is None
    assert_close(path.points, expected, rtol=1e-9, atol=1e-12)


def test_nesterov_path_matches_torch_at_the_look_ahead_point() -> None:
    # torch's parameter is θ̃ = θ + αv, and v = θₖ − θₖ₋₁ since θ ← θ + v.
    alpha, lr = 0.9, 0.001
    path = run(BY_ID["nesterov"], ROSENBROCK, START, {"lr": lr, "momentum": alpha}, STEPS)
    theta = tensor(START).requires_grad_()
    expected = torch_path(torch.optim.SGD([theta], lr=lr, momentum=alpha, nesterov=True), theta)
    points = np.asarray(path.points)
    look_ahead = points[1:] + alpha * (points[1:] - points[:-1])
    assert_close(look_ahead, expected[1:], rtol=1e-9, atol=1e-12)


def test_a_path_that_leaves_the_box_stops_there_and_says_at_which_step() -> None:
    path = run(BY_ID["sgd"], ROSENBROCK, START, {"lr": 0.01}, 100)
    assert path.diverged_at == len(path.points)  # the step after the last point drawn
    assert all(ROSENBROCK.box.contains(point) for point in path.points)
    assert len(path.losses) == len(path.points)
    params = list(START)
    for _ in range(path.diverged_at):
        params = compute("sgd", params=params, grads=ROSENBROCK.grad(tuple(params)), lr=0.01)[
            "params"
        ]
    assert not ROSENBROCK.box.contains(tuple(params))


def test_an_overflowing_step_counts_as_divergence() -> None:
    path = run(BY_ID["sgd"], quadratic(1000), (3.9, 2.9), {"lr": 1e12}, 10)
    assert path.diverged_at == 1
    assert path.points == [(3.9, 2.9)]


def test_a_stable_learning_rate_on_the_bowl_converges_to_the_minimum() -> None:
    bowl = quadratic(10)
    path = run(BY_ID["sgd"], bowl, bowl.start, {"lr": 0.15}, 200)
    assert path.diverged_at is None
    assert path.losses[-1] < 1e-20
    # SGD on ½(x² + κy²) is linear: x shrinks by (1 − η) and y by (1 − ηκ) each step.
    assert path.points[10][0] == pytest.approx(bowl.start[0] * 0.85**10)
    assert path.points[10][1] == pytest.approx(bowl.start[1] * (-0.5) ** 10)


def test_race_runs_all_six_from_the_same_start_with_the_surface_defaults() -> None:
    result = race(PlaygroundInputs(surface=SurfaceId.BEALE, steps=20))
    assert [path.optimizer for path in result.paths] == [
        "sgd",
        "momentum",
        "nesterov",
        "adagrad",
        "rmsprop",
        "adam",
    ]
    assert all(path.points[0] == BEALE.start for path in result.paths)
    adam = result.paths[-1]
    assert adam.hyper_parameters == {**BEALE.defaults["adam"], "eps": 1e-8}


@pytest.mark.parametrize("surface", list(SurfaceId))
def test_six_optimizers_at_the_step_cap_take_well_under_a_second(surface: SurfaceId) -> None:
    inputs = PlaygroundInputs(surface=surface, steps=MAX_STEPS)
    race(inputs)  # warm up imports and caches
    started = time.process_time()
    result = race(inputs)
    assert time.process_time() - started < 0.6
    assert max(len(path.points) for path in result.paths) == MAX_STEPS + 1


@pytest.mark.parametrize("kappa", [1.0, 30.0, 1000.0])
def test_bowl_defaults_converge_whatever_the_conditioning(kappa: float) -> None:
    result = race(PlaygroundInputs(surface=SurfaceId.QUADRATIC, kappa=kappa, steps=500))
    for path in result.paths:
        assert path.diverged_at is None, path.optimizer
        assert path.losses[-1] < path.losses[0] / 100, path.optimizer
