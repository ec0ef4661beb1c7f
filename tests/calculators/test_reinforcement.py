"""Reinforcement-learning calculators against independent references.

Returns against scipy.signal.lfilter; Bellman backups and policy evaluation against the
exact solution of V = R + γPV by numpy.linalg.solve; REINFORCE against torch autograd;
the DQN loss against torch huber_loss / smooth_l1_loss / mse_loss; Q-learning, SARSA and
ε-greedy against their textbook definitions written out here.
"""

import numpy as np
import pytest
import scipy.signal
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from app.calculators import InvalidInput
from tests.calculators.reference import assert_close, compute, tensor

values = st.floats(min_value=-10, max_value=10)
gammas = st.floats(min_value=0, max_value=1)


# --- discounted return ------------------------------------------------------------------------


@given(st.lists(values, min_size=1, max_size=30), gammas)
def test_discounted_return_matches_a_reverse_scipy_filter(
    rewards: list[float], gamma: float
) -> None:
    outputs = compute("discounted-return", rewards=rewards, gamma=gamma)
    # G_t = r_{t+1} + γ G_{t+1} is the IIR filter y[n] = x[n] + γ y[n − 1] run backwards.
    expected = scipy.signal.lfilter([1.0], [1.0, -gamma], rewards[::-1])[::-1]
    scale = 1e-9 * np.abs(rewards).sum()
    assert_close(outputs["returns"], expected, atol=scale + 1e-12)
    direct = sum(gamma**k * reward for k, reward in enumerate(rewards))
    assert_close(outputs["discounted_return"], direct, atol=scale + 1e-12)


def test_discounted_return_by_hand() -> None:
    outputs = compute("discounted-return", rewards=[1, 0, 2], gamma=0.9)
    assert_close(outputs["returns"], [1 + 0.81 * 2, 0.9 * 2, 2])


# --- a random MDP and its exact values --------------------------------------------------------


def stochastic(draw: st.DrawFn, rows: int, columns: int) -> np.ndarray:
    """A matrix with rows that are probability distributions."""
    weights = np.array(
        draw(
            st.lists(
                st.lists(st.floats(0.01, 1), min_size=columns, max_size=columns),
                min_size=rows,
                max_size=rows,
            )
        )
    )
    return weights / weights.sum(axis=1, keepdims=True)


@st.composite
def mdps(draw: st.DrawFn):
    """p(s′|s,a) as S×A×S, r(s,a,s′) as S×A×S, a policy π(a|s) as S×A, and γ."""
    states, actions = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    transitions = stochastic(draw, states * actions, states).reshape(states, actions, states)
    rewards = np.array(
        draw(
            st.lists(values, min_size=states * actions * states, max_size=states * actions * states)
        )
    ).reshape(states, actions, states)
    policy = stochastic(draw, states, actions)
    return transitions, rewards, policy, draw(st.floats(0, 0.95))


def exact_values(transitions, rewards, policy, gamma):
    """V^π and Q^π from V = R^π + γ P^π V solved with numpy.linalg.solve."""
    p_pi = np.einsum("sa,sat->st", policy, transitions)
    r_pi = np.einsum("sa,sat,sat->s", policy, transitions, rewards)
    v = np.linalg.solve(np.eye(len(r_pi)) - gamma * p_pi, r_pi)
    q = np.einsum("sat,sat->sa", transitions, rewards + gamma * v)
    return p_pi, r_pi, v, q


def value_scale(rewards: np.ndarray, gamma: float) -> float:
    return float(np.abs(rewards).max() / (1 - gamma))


@given(mdps())
def test_bellman_v_backup_reproduces_the_exact_value_of_every_state(mdp) -> None:
    transitions, rewards, policy, gamma = mdp
    _, _, v, q = exact_values(*mdp)
    atol = 1e-9 * value_scale(rewards, gamma) + 1e-12
    for state in range(len(v)):
        outputs = compute(
            "bellman-v-backup",
            transitions=transitions[state].tolist(),
            rewards=rewards[state].tolist(),
            next_values=v.tolist(),
            policy=policy[state].tolist(),
            gamma=gamma,
        )
        assert_close(outputs["value"], v[state], atol=atol)
        assert_close(outputs["q"], q[state], atol=atol)


@given(mdps())
def test_bellman_q_backup_reproduces_the_exact_action_values(mdp) -> None:
    transitions, rewards, policy, gamma = mdp
    _, _, v, q = exact_values(*mdp)
    atol = 1e-9 * value_scale(rewards, gamma) + 1e-12
    for state in range(len(v)):
        for action in range(policy.shape[1]):
            outputs = compute(
                "bellman-q-backup",
                transitions=transitions[state, action].tolist(),
                rewards=rewards[state, action].tolist(),
                next_q=q.tolist(),
                next_policy=policy.tolist(),
                gamma=gamma,
            )
            assert_close(outputs["q"], q[state, action], atol=atol)
            assert_close(outputs["next_values"], v, atol=atol)


def test_bellman_backups_without_a_policy_take_the_greedy_maximum() -> None:
    v = compute(
        "bellman-v-backup",
        transitions=[[0.8, 0.2], [0.0, 1.0]],
        rewards=[[1, 0], [2, 2]],
        next_values=[10, 5],
        gamma=0.9,
    )
    assert_close(v["q"], [0.8 * (1 + 9) + 0.2 * (0 + 4.5), 2 + 4.5])
    assert_close(v["value"], max(v["q"]))
    q = compute(
        "bellman-q-backup",
        transitions=[0.7, 0.3],
        rewards=[1, 0],
        next_q=[[2, 4], [1, 0]],
        gamma=0.9,
    )
    assert_close(q["next_values"], [4, 1])
    assert_close(q["q"], 0.7 * (1 + 0.9 * 4) + 0.3 * (0 + 0.9 * 1))


@pytest.mark.parametrize(
    ("calculator_id", "inputs", "field", "reason"),
    [
        ("bellman-v-backup", {"transitions": [[0.5, 0.6]]}, "transitions", "sum to 1"),
        ("bellman-v-backup", {"transitions": [[1.5, -0.5]]}, "transitions", "negative"),
        ("bellman-v-backup", {"rewards": [[1]]}, "rewards", "shape of transitions"),
        ("bellman-v-backup", {"next_values": [1]}, "next_values", "one per next state"),
        ("bellman-v-backup", {"policy": [0.5, 0.5]}, "policy", "one per action"),
        ("bellman-v-backup", {"policy": [0.5]}, "policy", "sum to 1"),
        ("bellman-q-backup", {"rewards": [1]}, "rewards", "one per next state"),
        ("bellman-q-backup", {"next_q": [[1, 2]]}, "next_q", "one row per next state"),
        ("bellman-q-backup", {"next_policy": [[1], [1]]}, "next_policy", "shape of next_q"),
        ("bellman-q-backup", {"next_policy": [[1, 1], [1, 0]]}, "next_policy", "row 0"),
    ],
)
def test_bellman_backups_refuse_inconsistent_models(
    calculator_id: str, inputs: dict, field: str, reason: str
) -> None:
    bases = {
        "bellman-v-backup": {
            "transitions": [[0.5, 0.5]],
            "rewards": [[1, 2]],
            "next_values": [0, 1],
            "policy": [1.0],
        },
        "bellman-q-backup": {
            "transitions": [0.5, 0.5],
            "rewards": [1, 2],
            "next_q": [[0, 1], [2, 3]],
            "next_policy": [[1, 0], [0, 1]],
        },
    }
    with pytest.raises(InvalidInput) as caught:
        compute(calculator_id, **{**bases[calculator_id], **inputs})
    assert caught.value.field == field
    assert reason in caught.value.reason


# --- policy evaluation ------------------------------------------------------------------------


@st.composite
def markov_chains(draw: st.DrawFn):
    states = draw(st.integers(1, 8))
    transitions = stochastic(draw, states, states)
    rewards = draw(st.lists(values, min_size=states, max_size=states))
    return transitions, rewards, draw(st.floats(0, 0.99))


@given(markov_chains())
def test_policy_evaluation_matches_numpy_linalg_solve(chain) -> None:
    transitions, rewards, gamma = chain
    outputs = compute(
        "policy-evaluation", transitions=transitions.tolist(), rewards=rewards, gamma=gamma
    )
    expected = np.linalg.solve(np.eye(len(rewards)) - gamma * transitions, rewards)
    atol = 1e-9 * value_scale(np.asarray(rewards), gamma) + 1e-12
    assert_close(outputs["values"], expected, atol=atol)


def test_policy_evaluation_converges_for_the_largest_chain_and_discount() -> None:
    rng = np.random.default_rng(0)
    transitions = rng.random((64, 64))
    transitions /= transitions.sum(axis=1, keepdims=True)
    rewards = rng.normal(size=64)
    outputs = compute(
        "policy-evaluation", transitions=transitions.tolist(), rewards=rewards.tolist(), gamma=0.99
    )
    expected = np.linalg.solve(np.eye(64) - 0.99 * transitions, rewards)
    assert_close(outputs["values"], expected, atol=1e-9 * value_scale(rewards, 0.99))


def test_policy_evaluation_of_an_absorbing_state_is_a_geometric_series() -> None:
    outputs = compute("policy-evaluation", transitions=[[1.0]], rewards=[1.0], gamma=0.5)
    assert_close(outputs["values"], [2.0])


@pytest.mark.parametrize(
    ("inputs", "field", "reason"),
    [
        ({"transitions": [[0.5, 0.5]]}, "transitions", "square"),
        ({"transitions": [[0.5, 0.4], [0, 1]]}, "transitions", "row 0"),
        ({"rewards": [1.0]}, "rewards", "one per state"),
        ({"gamma": 1.0}, "gamma", "less than or equal to 0.99"),
    ],
)
def test_policy_evaluation_refuses_bad_chains(inputs: dict, field: str, reason: str) -> None:
    base = {"transitions": [[0.5, 0.5], [0.0, 1.0]], "rewards": [1.0, 2.0], "gamma": 0.9}
    with pytest.raises(InvalidInput) as caught:
        compute("policy-evaluation", **{**base, **inputs})
    assert caught.value.field == field
    assert reason in caught.value.reason


# --- Q-learning and SARSA ---------------------------------------------------------------------

rates = st.floats(min_value=0, max_value=1)


@given(values, values, st.lists(values, min_size=1, max_size=6), rates, gammas, st.booleans())
def test_q_learning_is_watkins_update(q, reward, next_q, alpha, gamma, terminal) -> None:
    outputs = compute(
        "q-learning",
        q=q,
        reward=reward,
        next_q=next_q,
        alpha=alpha,
        gamma=gamma,
        terminal=terminal,
    )
    target = reward if terminal else reward + gamma * max(next_q)
    assert_close(outputs["td_target"], target)
    assert_close(outputs["td_error"], target - q, atol=1e-9)
    assert_close(outputs["q"], q + alpha * (target - q), atol=1e-9)


@given(values, values, values, rates, gammas, st.booleans())
def test_sarsa_is_the_on_policy_td_update(q, reward, next_q_taken, alpha, gamma, terminal) -> None:
    outputs = compute(
        "sarsa",
        q=q,
        reward=reward,
        next_q_taken=next_q_taken,
        alpha=alpha,
        gamma=gamma,
        terminal=terminal,
    )
    target = reward if terminal else reward + gamma * next_q_taken
    assert_close(outputs["td_target"], target)
    assert_close(outputs["q"], (1 - alpha) * q + alpha * target, atol=1e-9)


def test_q_learning_and_sarsa_differ_only_in_the_bootstrapped_action() -> None:
    common = {"q": 2.0, "reward": 1.0, "alpha": 0.5, "gamma": 0.9}
    greedy = compute("q-learning", next_q=[3.0, 5.0], **common)
    explored = compute("sarsa", next_q_taken=3.0, **common)
    assert_close([greedy["td_target"], greedy["q"]], [1 + 0.9 * 5, 2 + 0.5 * 3.5])
    assert_close([explored["td_target"], explored["q"]], [1 + 0.9 * 3, 2 + 0.5 * 1.7])


def test_a_terminal_step_ignores_the_next_values() -> None:
    outputs = compute("q-learning", q=2.0, reward=1.0, next_q=[100.0], terminal=True)
    assert outputs["td_target"] == 1.0
    assert_close(outputs["q"], 2.0 + 0.1 * (1.0 - 2.0))


def test_td_updates_refuse_a_step_size_above_one() -> None:
    with pytest.raises(InvalidInput, match="less than or equal to 1") as caught:
        compute("sarsa", q=0, reward=0, next_q_taken=0, alpha=1.5)
    assert caught.value.field == "alpha"


# --- ε-greedy ---------------------------------------------------------------------------------


@given(st.lists(st.integers(-3, 3).map(float), min_size=1, max_size=8), rates)
def test_epsilon_greedy_gives_the_greedy_share_to_the_tied_maxima(q, epsilon) -> None:
    outputs = compute("epsilon-greedy", q=q, epsilon=epsilon)
    best = max(q)
    greedy = [a for a, value in enumerate(q) if value == best]
    expected = [
        epsilon / len(q) + ((1 - epsilon) / len(greedy) if a in greedy else 0.0)
        for a in range(len(q))
    ]
    assert outputs["greedy_actions"] == greedy
    assert_close(outputs["probabilities"], expected)
    assert_close(sum(outputs["probabilities"]), 1.0)


def test_epsilon_greedy_by_hand() -> None:
    outputs = compute("epsilon-greedy", q=[1.0, 3.0, 2.0], epsilon=0.3)
    assert_close(outputs["probabilities"], [0.1, 0.8, 0.1])


# --- REINFORCE --------------------------------------------------------------------------------


@given(st.lists(values, min_size=1, max_size=6), st.data(), values, rates)
def test_reinforce_gradient_matches_torch_autograd(preferences, data, ret, lr) -> None:
    action = data.draw(st.integers(0, len(preferences) - 1))
    outputs = compute(
        "reinforce", preferences=preferences, action=action, discounted_return=ret, lr=lr
    )
    theta = tensor(preferences).requires_grad_()
    log_pi = torch.log_softmax(theta, dim=0)[action]
    log_pi.backward()
    assert_close(outputs["probabilities"], torch.softmax(theta.detach(), dim=0))
    assert_close(outputs["grad_log_pi"], theta.grad)
    assert_close(outputs["gradient"], ret * theta.grad, atol=1e-9)
    assert_close(outputs["preferences"], theta.detach() + lr * ret * theta.grad, atol=1e-9)


def test_reinforce_with_equal_preferences_by_hand() -> None:
    outputs = compute(
        "reinforce", preferences=[0, 0, 0, 0], action=2, discounted_return=2.0, lr=0.1
    )
    assert_close(outputs["grad_log_pi"], [-0.25, -0.25, 0.75, -0.25])
    assert_close(outputs["gradient"], [-0.5, -0.5, 1.5, -0.5])


def test_reinforce_refuses_an_action_that_does_not_exist() -> None:
    with pytest.raises(InvalidInput, match="number of actions") as caught:
        compute("reinforce", preferences=[0, 0], action=2, discounted_return=1)
    assert caught.value.field == "action"


# --- DQN loss ---------------------------------------------------------------------------------


@st.composite
def minibatches(draw: st.DrawFn):
    n, actions = draw(st.integers(1, 6)), draw(st.integers(1, 4))
    vector = st.lists(values, min_size=n, max_size=n)
    return {
        "q_taken": draw(vector),
        "rewards": draw(vector),
        "next_q_target": draw(
            st.lists(st.lists(values, min_size=actions, max_size=actions), min_size=n, max_size=n)
        ),
        "terminal": draw(st.lists(st.booleans(), min_size=n, max_size=n)),
        "gamma": draw(gammas),
    }


def torch_targets(batch: dict) -> torch.Tensor:
    alive = 1 - tensor([float(done) for done in batch["terminal"]])
    best = tensor(batch["next_q_target"]).max(dim=1).values
    return tensor(batch["rewards"]) + batch["gamma"] * alive * best


@given(minibatches(), st.floats(0.1, 5))
def test_dqn_huber_loss_matches_torch_huber_loss(batch: dict, delta: float) -> None:
    outputs = compute("dqn-loss", **batch, loss="huber", delta=delta)
    targets = torch_targets(batch)
    assert_close(outputs["targets"], targets)
    assert_close(
        outputs["loss"], F.huber_loss(tensor(batch["q_taken"]), targets, delta=delta), atol=1e-9
    )


@given(minibatches())
def test_dqn_default_loss_is_torch_smooth_l1_with_beta_one(batch: dict) -> None:
    outputs = compute("dqn-loss", **batch)
    expected = F.smooth_l1_loss(tensor(batch["q_taken"]), torch_targets(batch), beta=1.0)
    assert_close(outputs["loss"], expected, atol=1e-9)


@given(minibatches())
def test_dqn_mse_loss_matches_torch_mse_loss(batch: dict) -> None:
    outputs = compute("dqn-loss", **batch, loss="mse")
    expected = F.mse_loss(tensor(batch["q_taken"]), torch_targets(batch))
    assert_close(outputs["loss"], expected, atol=1e-9)


def test_dqn_loss_without_terminal_flags_bootstraps_every_transition() -> None:
    outputs = compute(
        "dqn-loss", q_taken=[1.0], rewards=[1.0], next_q_target=[[2.0, 3.0]], gamma=0.9
    )
    assert_close(outputs["targets"], [1 + 0.9 * 3])
    assert_close(outputs["loss"], 2.7 - 0.5)  # |error| = 2.7 > δ = 1: linear part


@pytest.mark.parametrize(
    ("inputs", "field"),
    [
        ({"rewards": [1.0, 2.0]}, "rewards"),
        ({"next_q_target": [[1.0], [2.0]]}, "next_q_target"),
        ({"terminal": [True, False]}, "terminal"),
        ({"loss": "l1"}, "loss"),
        ({"delta": 0}, "delta"),
    ],
)
def test_dqn_loss_refuses_a_minibatch_that_does_not_line_up(inputs: dict, field: str) -> None:
    base = {"q_taken": [1.0], "rewards": [1.0], "next_q_target": [[2.0, 3.0]]}
    with pytest.raises(InvalidInput) as caught:
        compute("dqn-loss", **{**base, **inputs})
    assert caught.value.field == field
