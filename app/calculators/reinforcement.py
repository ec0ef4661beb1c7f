"""Reinforcement learning: returns, Bellman backups, TD control, policy gradients, DQN."""

from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field, model_validator

from app.calculators.activations import stable_softmax
from app.calculators.generative import small_integers
from app.calculators.losses import ROW_SUM_TOLERANCE
from app.calculators.registry import calculator
from app.calculators.types import (
    MAX_ELEMENTS,
    Inputs,
    InvalidInput,
    Matrix,
    NonNegative,
    Probability,
    Real,
    Result,
    Step,
    Vector,
    described,
    shape_text,
)

Flags = Annotated[list[bool], Field(min_length=1, max_length=MAX_ELEMENTS)]
ConvergentDiscount = Annotated[Real, Field(ge=0, le=0.99)]

GAMMA = {"en": "Discount rate γ in [0, 1]", "ja": "割引率 γ（0 以上 1 以下）"}
ALPHA = {
    "en": "Step size (learning rate) α in [0, 1]",
    "ja": "ステップサイズ（学習率）α（0 以上 1 以下）",
}


def require_distribution(name: str, rows: np.ndarray) -> None:
    """Each row of `rows` must be a probability distribution (up to rounding)."""
    if (rows < 0).any():
        raise InvalidInput(name, "probabilities cannot be negative")
    for index, total in enumerate(np.atleast_2d(rows).sum(axis=1)):
        if abs(total - 1) > ROW_SUM_TOLERANCE:
            where = f"row {index}" if rows.ndim == 2 else "the probabilities"
            raise InvalidInput(name, f"{where} must sum to 1, got {total:.6g}")


def require_length(name: str, values: Any, length: int, what: str) -> None:
    actual = np.shape(values)
    if actual[:1] != (length,):
        raise InvalidInput(name, f"needs {length} entries ({what}), got {shape_text(actual)}")


def require_index(name: str, index: int, count: int, what: str) -> None:
    if index >= count:
        raise InvalidInput(name, f"must be below the number of {what} ({count}), got {index}")


# --- Discounted return ------------------------------------------------------------------------


class DiscountedReturnInputs(Inputs):
    rewards: Vector = described(
        en="Rewards R_{t+1}, R_{t+2}, …, R_T received after time t, in order",
        ja="時刻 t の後に受け取る報酬 R_{t+1}, R_{t+2}, …, R_T（順番どおり）",
    )
    gamma: Probability = described(0.99, **GAMMA)


def _sample_discounted_return(rng: np.random.Generator) -> dict[str, Any]:
    size = int(rng.integers(2, 4))
    return {"rewards": small_integers(rng, size, 0, 3), "gamma": float(rng.choice([0.5, 0.9]))}


@calculator(
    "discounted-return",
    outputs=("discounted_return", "returns"),
    sample=_sample_discounted_return,
    answer="discounted_return",
)
def discounted_return(inputs: DiscountedReturnInputs) -> Result:
    rewards = np.asarray(inputs.rewards)
    weights = inputs.gamma ** np.arange(len(rewards))
    returns = np.empty_like(rewards)
    following = 0.0
    for index in range(len(rewards) - 1, -1, -1):
        following = rewards[index] + inputs.gamma * following
        returns[index] = following
    return Result(
        {"discounted_return": returns[0], "returns": returns},
        [
            Step("γᵏ", weights),
            Step("γᵏ R_{t+k+1}", weights * rewards),
            Step("G_t = Σ γᵏ R_{t+k+1}", returns[0]),
            Step("G_t = R_{t+1} + γ G_{t+1}, for every t (from the end)", returns),
        ],
    )


# --- Bellman backups for V and Q --------------------------------------------------------------


class BellmanVInputs(Inputs):
    transitions: Matrix = described(
        en="p(s′ | s, a): one row per action a, one column per next state s′; rows sum to 1",
        ja="p(s′ | s, a)：行が行動 a、列が次の状態 s′（各行の和は 1）",
    )
    rewards: Matrix = described(
        en="r(s, a, s′): reward for each action (row) and next state (column)",
        ja="r(s, a, s′)：行動（行）と次の状態（列）ごとの報酬",
    )
    next_values: Vector = described(
        en="V(s′) for every next state s′", ja="次の状態ごとの価値 V(s′)"
    )
    policy: Vector | None = described(
        None,
        en="π(a | s) for every action (sums to 1); leave empty for the greedy max (optimality)",
        ja="行動ごとの π(a | s)（和は 1）。空なら max を取る（最適方程式）",
    )
    gamma: Probability = described(0.9, **GAMMA)

    @model_validator(mode="after")
    def _shapes_and_distributions(self) -> "BellmanVInputs":
        actions, states = np.shape(self.transitions)
        if np.shape(self.rewards) != (actions, states):
            raise InvalidInput(
                "rewards",
                f"must have the shape of transitions ({actions}×{states}), "
                f"got {shape_text(np.shape(self.rewards))}",
            )
        require_length("next_values", self.next_values, states, "one per next state s′")
        require_distribution("transitions", np.asarray(self.transitions))
        if self.policy is not None:
            require_length(
                "policy", self.policy, actions, "one per action, like the rows of transitions"
            )
            require_distribution("policy", np.asarray(self.policy))
        return self


def _sample_bellman_v(rng: np.random.Generator) -> dict[str, Any]:
    return {
        "transitions": [[1.0, 0.0], [0.5, 0.5]],
        "rewards": small_integers(rng, (2, 2), 0, 3),
        "next_values": small_integers(rng, 2, 0, 5),
        "policy": [0.5, 0.5],
        "gamma": 0.9,
    }


def one_step_targets(rewards: np.ndarray, gamma: float, next_values: np.ndarray) -> np.ndarray:
    """r + γ V(s′) for every (row, next state) pair."""
    return rewards + gamma * next_values


@calculator("bellman-v-backup", outputs=("value", "q"), sample=_sample_bellman_v, answer="value")
def bellman_v_backup(inputs: BellmanVInputs) -> Result:
    p = np.asarray(inputs.transitions)
    targets = one_step_targets(
        np.asarray(inputs.rewards), inputs.gamma, np.asarray(inputs.next_values)
    )
    q = (p * targets).sum(axis=1)
    steps = [
        Step("r + γ V(s′)  (rows a, columns s′)", targets),
        Step("q(s, a) = Σ_s′ p(s′|s,a) [r + γ V(s′)]", q),
    ]
    if inputs.policy is None:
        value = q.max()
        steps.append(Step("V(s) = max_a q(s, a)", value))
    else:
        value = float(np.dot(inputs.policy, q))
        steps.append(Step("V(s) = Σ_a π(a|s) q(s, a)", value))
    return Result({"value": value, "q": q}, steps)


class BellmanQInputs(Inputs):
    transitions: Vector = described(
        en="p(s′ | s, a) for every next state s′ (sums to 1)",
        ja="次の状態ごとの p(s′ | s, a)（和は 1）",
    )
    rewards: Vector = described(
        en="r(s, a, s′) for every next state s′", ja="次の状態ごとの報酬 r(s, a, s′)"
    )
    next_q: Matrix = described(
        en="Q(s′, a′): one row per next state s′, one column per next action a′",
        ja="Q(s′, a′)：行が次の状態 s′、列が次の行動 a′",
    )
    next_policy: Matrix | None = described(
        None,
        en="π(a′ | s′), shaped like next_q, rows sum to 1; empty: max_a′ (the Q-learning target)",
        ja="π(a′ | s′)（next_q と同じ形、各行の和は 1）。空なら max_a′ を取る（Q 学習の目標）",
    )
    gamma: Probability = described(0.9, **GAMMA)

    @model_validator(mode="after")
    def _shapes_and_distributions(self) -> "BellmanQInputs":
        states = len(self.transitions)
        require_length("rewards", self.rewards, states, "one per next state, like transitions")
        require_length("next_q", self.next_q, states, "one row per next state, like transitions")
        require_distribution("transitions", np.asarray(self.transitions))
        if self.next_policy is not None:
            if np.shape(self.next_policy) != np.shape(self.next_q):
                raise InvalidInput(
                    "next_policy",
                    f"must have the shape of next_q ({shape_text(np.shape(self.next_q))}), "
                    f"got {shape_text(np.shape(self.next_policy))}",
                )
            require_distribution("next_policy", np.asarray(self.next_policy))
        return self


def _sample_bellman_q(rng: np.random.Generator) -> dict[str, Any]:
    return {
        "transitions": [0.5, 0.5],
        "rewards": small_integers(rng, 2, 0, 3),
        "next_q": small_integers(rng, (2, 2), 0, 5),
        "next_policy": [[0.5, 0.5], [1.0, 0.0]],
        "gamma": 0.9,
    }


@calculator("bellman-q-backup", outputs=("q", "next_values"), sample=_sample_bellman_q, answer="q")
def bellman_q_backup(inputs: BellmanQInputs) -> Result:
    next_q = np.asarray(inputs.next_q)
    if inputs.next_policy is None:
        next_values = next_q.max(axis=1)
        label = "V(s′) = max_a′ Q(s′, a′)"
    else:
        next_values = (np.asarray(inputs.next_policy) * next_q).sum(axis=1)
        label = "V(s′) = Σ_a′ π(a′|s′) Q(s′, a′)"
    targets = one_step_targets(np.asarray(inputs.rewards), inputs.gamma, next_values)
    q = float(np.dot(inputs.transitions, targets))
    return Result(
        {"q": q, "next_values": next_values},
        [
            Step(label, next_values),
            Step("r + γ V(s′)", targets),
            Step("Q(s, a) = Σ_s′ p(s′|s,a) [r + γ V(s′)]", q),
        ],
    )


# --- Iterative policy evaluation --------------------------------------------------------------

MAX_DOUBLINGS = 64
CONVERGENCE = 1e-12


class PolicyEvaluationInputs(Inputs):
    transitions: Matrix = described(
        en="P^π: probability of moving from s (row) to s′ (column) under π; square, rows sum to 1",
        ja="P^π：方策 π の下で状態 s（行）から s′（列）へ移る確率（正方行列、各行の和は 1）",
    )
    rewards: Vector = described(
        en="R^π(s): expected reward of one step from each state under π",
        ja="R^π(s)：方策 π の下で各状態から 1 ステップで得る報酬の期待値",
    )
    gamma: ConvergentDiscount = described(
        0.9,
        en="Discount rate γ in [0, 0.99] (below 1, so the sum converges)",
        ja="割引率 γ（0 以上 0.99 以下。1 未満なので和が収束する）",
    )

    @model_validator(mode="after")
    def _square_and_stochastic(self) -> "PolicyEvaluationInputs":
        rows, columns = np.shape(self.transitions)
        if rows != columns:
            raise InvalidInput(
                "transitions", f"must be square (states × states), got {rows}×{columns}"
            )
        require_distribution("transitions", np.asarray(self.transitions))
        require_length("rewards", self.rewards, rows, "one per state")
        return self


def _sample_policy_evaluation(rng: np.random.Generator) -> dict[str, Any]:
    stay = float(rng.choice([0.0, 0.5, 1.0]))
    return {
        "transitions": [[stay, 1 - stay], [0.0, 1.0]],
        "rewards": small_integers(rng, 2, 0, 3),
        "gamma": 0.5,
    }


@calculator(
    "policy-evaluation",
    outputs=("values", "sweeps"),
    sample=_sample_policy_evaluation,
    answer="values[0]",
)
def policy_evaluation(inputs: PolicyEvaluationInputs) -> Result:
    rewards = np.asarray(inputs.rewards)
    discounted = inputs.gamma * np.asarray(inputs.transitions)  # γP
    # Synchronous sweeps V_{n+1} = R + γ P V_n from V_0 = 0 give V_n = Σ_{k<n} (γP)^k R,
    # so n sweeps can be taken in doubling blocks: V_2n = V_n + (γP)^n V_n. Stop once a block
    # adds at most 1e-12 · max|R|; then V is within that of the fixed point relative to
    # the bound max|R| / (1 − γ), since later blocks shrink geometrically.
    tolerance = CONVERGENCE * np.abs(rewards).max()
    values, power, sweeps = rewards, discounted, 1
    steps = [Step("V_1 = R + γ P V_0 = R  (V_0 = 0)", values)]
    for _ in range(MAX_DOUBLINGS):
        increment = power @ values
        values, sweeps = values + increment, 2 * sweeps
        if sweeps == 2:
            steps.append(Step("V_2 = R + γ P V_1", values))
        if np.abs(increment).max() <= tolerance:
            break
        power = power @ power
    steps.append(Step(f"V_{sweeps} = V_{sweeps // 2} + (γP)^{sweeps // 2} V_{sweeps // 2}", values))
    return Result({"values": values, "sweeps": sweeps}, steps)


# --- TD control: Q-learning and SARSA ---------------------------------------------------------


class TdInputs(Inputs):
    q: Real = described(en="Current estimate Q(S_t, A_t)", ja="現在の推定値 Q(S_t, A_t)")
    reward: Real = described(en="Reward R_{t+1}", ja="報酬 R_{t+1}")
    alpha: Probability = described(0.1, **ALPHA)
    gamma: Probability = described(0.99, **GAMMA)
    terminal: bool = described(
        False,
        en="S_{t+1} is terminal: the target is the reward alone",
        ja="S_{t+1} が終端状態（目標は報酬だけになる）",
    )


def td_update(inputs: TdInputs, bootstrap: float, bootstrap_label: str) -> Result:
    target = inputs.reward if inputs.terminal else inputs.reward + inputs.gamma * bootstrap
    error = target - inputs.q
    q = inputs.q + inputs.alpha * error
    if inputs.terminal:
        steps = [Step("target = R (S_{t+1} is terminal)", target)]
    else:
        steps = [
            Step(bootstrap_label, bootstrap),
            Step(f"target = R + γ {bootstrap_label}", target),
        ]
    steps += [Step("δ = target − Q(S_t, A_t)", error), Step("Q(S_t, A_t) ← Q(S_t, A_t) + α δ", q)]
    return Result({"q": q, "td_target": target, "td_error": error}, steps)


def _sample_td(rng: np.random.Generator) -> dict[str, Any]:
    return {
        "q": float(rng.integers(0, 5)),
        "reward": float(rng.integers(-1, 3)),
        "alpha": 0.5,
        "gamma": 0.9,
        "terminal": False,
    }


class QLearningInputs(TdInputs):
    next_q: Vector = described(
        en="Q(S_{t+1}, a′) for every action a′ (ignored when terminal)",
        ja="すべての行動 a′ についての Q(S_{t+1}, a′)（終端なら使わない）",
    )


def _sample_q_learning(rng: np.random.Generator) -> dict[str, Any]:
    return {**_sample_td(rng), "next_q": small_integers(rng, 3, 0, 5)}


@calculator(
    "q-learning", outputs=("q", "td_target", "td_error"), sample=_sample_q_learning, answer="q"
)
def q_learning(inputs: QLearningInputs) -> Result:
    return td_update(inputs, max(inputs.next_q), "max_a′ Q(S_{t+1}, a′)")


class SarsaInputs(TdInputs):
    next_q_taken: Real = described(
        en="Q(S_{t+1}, A_{t+1}) of the action actually chosen next (ignored when terminal)",
        ja="次に実際に選んだ行動の Q(S_{t+1}, A_{t+1})（終端なら使わない）",
    )


def _sample_sarsa(rng: np.random.Generator) -> dict[str, Any]:
    return {**_sample_td(rng), "next_q_taken": float(rng.integers(0, 5))}


@calculator("sarsa", outputs=("q", "td_target", "td_error"), sample=_sample_sarsa, answer="q")
def sarsa(inputs: SarsaInputs) -> Result:
    return td_update(inputs, inputs.next_q_taken, "Q(S_{t+1}, A_{t+1})")


# --- ε-greedy ---------------------------------------------------------------------------------


class EpsilonGreedyInputs(Inputs):
    q: Vector = described(
        en="Action values Q(s, a), one per action", ja="行動ごとの行動価値 Q(s, a)"
    )
    epsilon: Probability = described(
        0.1, en="Exploration rate ε in [0, 1]", ja="探索率 ε（0 以上 1 以下）"
    )


def _sample_epsilon_greedy(rng: np.random.Generator) -> dict[str, Any]:
    size = int(rng.integers(2, 5))
    return {"q": small_integers(rng, size, 0, 6), "epsilon": float(rng.choice([0.1, 0.2, 0.5]))}


@calculator(
    "epsilon-greedy",
    outputs=("probabilities", "greedy_actions"),
    sample=_sample_epsilon_greedy,
    answer="probabilities[0]",
)
def epsilon_greedy(inputs: EpsilonGreedyInputs) -> Result:
    q = np.asarray(inputs.q)
    greedy = np.flatnonzero(q == q.max())
    explore = inputs.epsilon / len(q)
    probabilities = np.full(len(q), explore)
    probabilities[greedy] += (1 - inputs.epsilon) / len(greedy)
    return Result(
        {"probabilities": probabilities, "greedy_actions": greedy},
        [
            Step("argmax_a Q(s, a) (ties share the greedy share)", greedy),
            Step("ε / |A|", explore),
            Step("(1 − ε) / (number of greedy actions)", (1 - inputs.epsilon) / len(greedy)),
            Step("π(a|s)", probabilities),
        ],
    )


# --- REINFORCE with a softmax policy ----------------------------------------------------------


class ReinforceInputs(Inputs):
    preferences: Vector = described(
        en="Action preferences h(s, a) = θ_a of a softmax policy (one per action)",
        ja="ソフトマックス方策の行動選好 h(s, a) = θ_a（行動ごと）",
    )
    action: int = described(
        ge=0,
        lt=MAX_ELEMENTS,
        en="Index of the action A_t taken (from 0)",
        ja="実際に取った行動 A_t の番号（0 始まり）",
    )
    discounted_return: Real = described(
        en="Return G_t that followed the action", ja="その行動の後に得た収益 G_t"
    )
    lr: NonNegative = described(0.1, en="Step size α (≥ 0)", ja="ステップサイズ α（≥ 0）")

    @model_validator(mode="after")
    def _action_exists(self) -> "ReinforceInputs":
        require_index("action", self.action, len(self.preferences), "actions")
        return self


def _sample_reinforce(rng: np.random.Generator) -> dict[str, Any]:
    size = int(rng.integers(2, 5))
    return {
        "preferences": [0.0] * size,
        "action": int(rng.integers(size)),
        "discounted_return": float(rng.choice([1.0, 2.0, 4.0, -2.0])),
        "lr": 0.1,
    }


@calculator(
    "reinforce",
    outputs=("probabilities", "grad_log_pi", "gradient", "preferences"),
    sample=_sample_reinforce,
    answer="gradient[0]",
)
def reinforce(inputs: ReinforceInputs) -> Result:
    theta = np.asarray(inputs.preferences)
    probabilities = stable_softmax(theta)
    grad_log_pi = -probabilities
    grad_log_pi[inputs.action] += 1
    gradient = inputs.discounted_return * grad_log_pi
    updated = theta + inputs.lr * gradient
    return Result(
        {
            "probabilities": probabilities,
            "grad_log_pi": grad_log_pi,
            "gradient": gradient,
            "preferences": updated,
        },
        [
            Step("π(a|s) = softmax(θ)", probabilities),
            Step("∇_θ ln π(A_t|s) = 1[a = A_t] − π(a|s)", grad_log_pi),
            Step("G_t ∇_θ ln π(A_t|s)", gradient),
            Step("θ ← θ + α G_t ∇_θ ln π(A_t|s)", updated),
        ],
    )


# --- DQN loss ---------------------------------------------------------------------------------


class DqnLossInputs(Inputs):
    q_taken: Vector = described(
        en="Q(s_i, a_i; θ) of the action taken, one per transition in the minibatch",
        ja="ミニバッチの遷移ごとの、取った行動の Q(s_i, a_i; θ)",
    )
    rewards: Vector = described(en="Rewards r_i, one per transition", ja="遷移ごとの報酬 r_i")
    next_q_target: Matrix = described(
        en="Target network Q(s′_i, a′; θ⁻): one row per transition, one column per action",
        ja="ターゲットネットワークの Q(s′_i, a′; θ⁻)：行が遷移、列が行動",
    )
    terminal: Flags | None = described(
        None,
        en="True where s′_i is terminal (the target is r_i alone); empty: none is terminal",
        ja="s′_i が終端状態なら true（目標は r_i だけ）。空ならどれも終端でない",
    )
    gamma: Probability = described(0.99, **GAMMA)
    loss: Literal["huber", "mse"] = described(
        "huber",
        en="huber (error clipping, as in the Nature DQN) or mse (squared error)",
        ja="huber（Nature 版 DQN の誤差クリッピング）または mse（二乗誤差）",
    )
    delta: Real = described(
        1.0, gt=0, en="Huber threshold δ (> 0)", ja="Huber 損失のしきい値 δ（> 0）"
    )

    @model_validator(mode="after")
    def _one_row_per_transition(self) -> "DqnLossInputs":
        n = len(self.q_taken)
        require_length("rewards", self.rewards, n, "one per transition, like q_taken")
        require_length(
            "next_q_target", self.next_q_target, n, "one row per transition, like q_taken"
        )
        if self.terminal is not None:
            require_length("terminal", self.terminal, n, "one per transition, like q_taken")
        return self


def _sample_dqn_loss(rng: np.random.Generator) -> dict[str, Any]:
    return {
        "q_taken": small_integers(rng, 1, 0, 5),
        "rewards": small_integers(rng, 1, -1, 3),
        "next_q_target": small_integers(rng, (1, 2), 0, 5),
        "terminal": [False],
        "gamma": 0.9,
        "loss": "mse",
    }


@calculator(
    "dqn-loss",
    outputs=("loss", "targets", "td_errors"),
    sample=_sample_dqn_loss,
    answer="loss",
)
def dqn_loss(inputs: DqnLossInputs) -> Result:
    best_next = np.asarray(inputs.next_q_target).max(axis=1)
    n = len(inputs.q_taken)
    alive = ~np.asarray(inputs.terminal if inputs.terminal is not None else [False] * n)
    targets = np.asarray(inputs.rewards) + inputs.gamma * np.where(alive, best_next, 0.0)
    errors = targets - np.asarray(inputs.q_taken)
    size = np.abs(errors)
    if inputs.loss == "mse":
        per_transition = errors**2
        label = "(y − Q)²"
    else:
        delta = inputs.delta
        per_transition = np.where(size <= delta, 0.5 * errors**2, delta * (size - 0.5 * delta))
        label = "Huber: ½(y − Q)² if |y − Q| ≤ δ, else δ(|y − Q| − ½δ)"
    loss = per_transition.mean()
    return Result(
        {"loss": loss, "targets": targets, "td_errors": errors},
        [
            Step("max_a′ Q(s′, a′; θ⁻)", best_next),
            Step("y = r + γ max_a′ Q(s′, a′; θ⁻)  (y = r if terminal)", targets),
            Step("y − Q(s, a; θ)", errors),
            Step(label, per_transition),
            Step("L = mean over the minibatch", loss),
        ],
    )
