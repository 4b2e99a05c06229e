"""CityNav / MultiCityNav (Mirowski et al., NeurIPS 2018) and a synchronous A2C learner for it.

Architecture (the paper's, sizes ours for 32 x 32 views): a visual CNN (two convolutions and a linear
layer) shared by all cities; per city a *city pathway*: the goal LSTM, which reads the visual features
and the goal descriptor, and its auxiliary head predicting the heading (16 bins); a shared policy LSTM
reading the visual features, the goal LSTM's output, the previous action (one-hot) and reward, with
linear policy and value heads. Transfer to a new city (`CityNavNet.add_city`, ``train_only="pathway"``)
trains a fresh pathway with everything shared frozen.

The learner is A2C with n-step bootstrapped returns over ``n_steps``-long rollouts of ``n_envs``
environments, LSTM states carried across rollouts (detached) and reset at episode ends; the loss is
policy gradient + ``value_coef`` x value MSE - ``ent_coef`` x entropy + ``heading_coef`` x heading
cross-entropy. The paper trains with IMPALA (V-trace, many actors); this is its single-process cousin.
A curriculum raises the goal radius linearly from ``curriculum_start_m`` to the whole city.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from core.errors import InputError
from hrl.city.config import CityNavConfig
from hrl.envs.city import N_HEADINGS, CityNavigation

__all__ = ["CityNavNet", "CityPathway", "TrainResult", "train_citynav"]


class CityPathway(nn.Module):
    """The city-specific goal LSTM and its heading head."""

    def __init__(self, features: int, n_landmarks: int, hidden: int) -> None:
        super().__init__()
        self.n_landmarks = n_landmarks
        self.lstm = nn.LSTMCell(features + n_landmarks, hidden)
        self.heading = nn.Linear(hidden, N_HEADINGS)


class CityNavNet(nn.Module):
    """Visual CNN + per-city goal LSTM + policy LSTM (MultiCityNav with one pathway per city name).

    Args:
        image_size: side of the (3, S, S) views; n_landmarks: K of the first city; config: widths.
        city: the first city's pathway name.
    """

    def __init__(self, image_size: int, n_landmarks: int, config: CityNavConfig, city: str = "city0") -> None:
        super().__init__()
        self.config = config
        with torch.random.fork_rng():
            torch.manual_seed(config.seed)
            self.cnn = nn.Sequential(
                nn.Conv2d(3, 16, 4, stride=2),
                nn.ReLU(),
                nn.Conv2d(16, 32, 3, stride=2),
                nn.ReLU(),
                nn.Flatten(),
            )
            with torch.no_grad():
                flat = self.cnn(torch.zeros(1, 3, image_size, image_size)).shape[1]
            self.visual = nn.Sequential(nn.Linear(flat, config.features), nn.ReLU())
            self.policy_lstm = nn.LSTMCell(config.features + config.hidden_goal + 5 + 1, config.hidden_policy)
            self.pi = nn.Linear(config.hidden_policy, 5)
            self.v = nn.Linear(config.hidden_policy, 1)
        self.pathways = nn.ModuleDict()
        self.add_city(city, n_landmarks)

    def add_city(self, name: str, n_landmarks: int, seed: int | None = None) -> CityPathway:
        """A fresh city pathway (goal LSTM + heading head) named `name`."""
        if name in self.pathways:
            raise InputError(
                "a pathway of that name exists", item=name, expected=f"not in {list(self.pathways)}"
            )
        with torch.random.fork_rng():
            torch.manual_seed(self.config.seed + 1 + len(self.pathways) if seed is None else seed)
            self.pathways[name] = CityPathway(self.config.features, n_landmarks, self.config.hidden_goal)
        return self.pathways[name]

    def shared_parameters(self) -> list[nn.Parameter]:
        """Everything but the city pathways: CNN, policy LSTM, policy and value heads."""
        return [p for n, p in self.named_parameters() if not n.startswith("pathways.")]

    def initial_state(self, batch: int) -> tuple[torch.Tensor, ...]:
        c = self.config
        return (
            torch.zeros(batch, c.hidden_goal),
            torch.zeros(batch, c.hidden_goal),
            torch.zeros(batch, c.hidden_policy),
            torch.zeros(batch, c.hidden_policy),
        )

    def forward(
        self,
        city: str,
        image: torch.Tensor,
        goal: torch.Tensor,
        prev_action: torch.Tensor,
        prev_reward: torch.Tensor,
        state: tuple[torch.Tensor, ...],
    ):
        """One step. image: (B, 3, S, S) uint8; goal: (B, K); prev_action: (B,) long; prev_reward: (B,).

        Returns: logits (B, 5), value (B,), heading logits (B, 16), next state.
        """
        if city not in self.pathways:
            raise InputError("unknown city pathway", item=city, expected=f"one of {list(self.pathways)}")
        path = self.pathways[city]
        if goal.shape[-1] != path.n_landmarks:
            raise InputError(
                "goal descriptor length differs from the pathway's landmarks",
                item=goal.shape[-1],
                expected=str(path.n_landmarks),
            )
        x = self.visual(self.cnn(image.float() / 255.0))
        hg, cg = path.lstm(torch.cat([x, goal], 1), state[:2])
        a = nn.functional.one_hot(prev_action, 5).float()
        hp, cp = self.policy_lstm(torch.cat([x, hg, a, prev_reward[:, None]], 1), state[2:])
        return self.pi(hp), self.v(hp).squeeze(1), path.heading(hg), (hg, cg, hp, cp)


@dataclass
class TrainResult:
    """What `train_citynav` measured.

    Attributes:
        steps: environment steps taken (all environments).
        curve: rows ``{"steps", "goals per 1000 steps", "reward per 1000 steps", "radius_m",
            "heading accuracy"}`` per window (the auxiliary head's 16-bin accuracy; chance 1/16).
        goals: goals reached in total.
    """

    steps: int = 0
    curve: list[dict[str, float]] = field(default_factory=list)
    goals: int = 0


def train_citynav(
    net: CityNavNet,
    make_env: Callable[[int], CityNavigation],
    total_steps: int,
    *,
    city: str = "city0",
    train_only: str = "all",
    window: int = 1000,
    curriculum: bool = True,
    on_window: Callable[[dict], None] | None = None,
) -> TrainResult:
    """Train `net`'s pathway `city` (and the shared part unless ``train_only="pathway"``) with A2C.

    Args:
        net: the agent. make_env: ``i -> CityNavigation`` (the same city for every i).
        total_steps: environment steps over all ``net.config.n_envs`` environments.
        city: the pathway to use and train. train_only: ``"all"`` or ``"pathway"`` (frozen shared part).
        window: steps per curve row. curriculum: grow the goal radius (else goals anywhere).

    Raises:
        InputError: on an unknown ``train_only`` or a bad step count.
    """
    if train_only not in ("all", "pathway"):
        raise InputError("unknown train_only", item=train_only, expected="'all' or 'pathway'")
    if not isinstance(total_steps, int) or total_steps < 1:
        raise InputError("total_steps must be a positive integer", item=total_steps)
    c = net.config
    envs = [make_env(i) for i in range(c.n_envs)]
    far = max(float(np.ptp(envs[0].graph.positions, axis=0).max()) * 1.5, c.curriculum_start_m)
    params = list(net.pathways[city].parameters())
    if train_only == "all":
        params += net.shared_parameters()
    for p in net.parameters():
        p.requires_grad_(False)
    for p in params:
        p.requires_grad_(True)
    optimiser = torch.optim.Adam(params, lr=c.learning_rate)
    rng = np.random.default_rng(c.seed)
    gen = torch.Generator().manual_seed(c.seed)

    def radius(step: int) -> float | None:
        if not curriculum or c.curriculum_steps == 0:
            return None
        f = min(step / c.curriculum_steps, 1.0)
        return c.curriculum_start_m + f * (far - c.curriculum_start_m)

    episode = 0
    obs = []
    for env in envs:
        o, _ = env.reset(seed=int(rng.integers(2**31)) + episode, options={"max_goal_distance_m": radius(0)})
        obs.append(o)
        episode += 1
    state = net.initial_state(c.n_envs)
    prev_a = torch.zeros(c.n_envs, dtype=torch.long)
    prev_r = torch.zeros(c.n_envs)
    result = TrainResult()
    win_goals = win_reward = 0.0
    win_heading_hits = 0
    next_row = window
    while result.steps < total_steps:
        logps, values, entropies, rewards, dones, heading_losses = [], [], [], [], [], []
        for _ in range(c.n_steps):
            image = torch.as_tensor(np.stack([o["image"] for o in obs]))
            goal = torch.as_tensor(np.stack([o["goal"] for o in obs]))
            heading_now = torch.as_tensor([e.heading for e in envs])
            logits, value, head, state = net(city, image, goal, prev_a, prev_r, state)
            dist = torch.distributions.Categorical(logits=logits)
            action = torch.multinomial(dist.probs.detach(), 1, generator=gen).squeeze(1)
            logps.append(dist.log_prob(action))
            entropies.append(dist.entropy())
            values.append(value)
            heading_losses.append(nn.functional.cross_entropy(head, heading_now))
            win_heading_hits += int((head.argmax(1) == heading_now).sum())
            r_step, d_step = np.zeros(c.n_envs, np.float32), np.zeros(c.n_envs, np.float32)
            for i, env in enumerate(envs):
                before = env.goals_reached
                o, r, term, trunc, _ = env.step(int(action[i]))
                win_goals += env.goals_reached - before
                result.goals += env.goals_reached - before
                win_reward += r
                r_step[i] = r
                if term or trunc:
                    d_step[i] = 1.0
                    o, _ = env.reset(
                        seed=int(rng.integers(2**31)) + episode,
                        options={"max_goal_distance_m": radius(result.steps)},
                    )
                    episode += 1
                obs[i] = o
            result.steps += c.n_envs
            rewards.append(torch.as_tensor(r_step))
            dones.append(torch.as_tensor(d_step))
            keep = 1.0 - dones[-1][:, None]
            state = tuple(s * keep for s in state)
            prev_a = torch.where(dones[-1] > 0, torch.zeros_like(action), action)
            prev_r = rewards[-1] * (1.0 - dones[-1])
            if result.steps >= next_row:
                row = {
                    "steps": result.steps,
                    "goals per 1000 steps": 1000.0 * win_goals / window,
                    "reward per 1000 steps": 1000.0 * win_reward / window,
                    "radius_m": radius(result.steps) or far,
                    "heading accuracy": win_heading_hits / window,
                }
                result.curve.append(row)
                if on_window is not None:
                    on_window(row)
                win_goals = win_reward = 0.0
                win_heading_hits = 0
                next_row += window
        with torch.no_grad():
            image = torch.as_tensor(np.stack([o["image"] for o in obs]))
            goal = torch.as_tensor(np.stack([o["goal"] for o in obs]))
            _, bootstrap, _, _ = net(city, image, goal, prev_a, prev_r, state)
        ret = bootstrap
        returns = []
        for t in reversed(range(c.n_steps)):  # a truncated episode is not bootstrapped past its end
            ret = rewards[t] + c.gamma * ret * (1.0 - dones[t])
            returns.append(ret)
        returns = torch.stack(returns[::-1])
        values_t, logps_t = torch.stack(values), torch.stack(logps)
        advantage = (returns - values_t).detach()
        loss = (
            -(advantage * logps_t).mean()
            + c.value_coef * (returns - values_t).pow(2).mean()
            - c.ent_coef * torch.stack(entropies).mean()
            + c.heading_coef * torch.stack(heading_losses).mean()
        )
        optimiser.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(params, c.max_grad_norm)
        optimiser.step()
        state = tuple(s.detach() for s in state)
    for p in net.parameters():
        p.requires_grad_(True)
    return result


def evaluate_goals(
    policy: Callable[[CityNavigation, Any], int],
    env: CityNavigation,
    episodes: int,
    seed: int,
    max_goal_distance_m: float | None = None,
) -> float:
    """Goals reached per 1000 steps by `policy(env, obs)` over seeded episodes."""
    goals = steps = 0
    for k in range(episodes):
        obs, _ = env.reset(seed=seed + k, options={"max_goal_distance_m": max_goal_distance_m})
        done = False
        while not done:
            obs, _, term, trunc, _ = env.step(policy(env, obs))
            steps += 1
            done = term or trunc
        goals += env.goals_reached
    return 1000.0 * goals / steps


def agent_policy(net: CityNavNet, city: str, seed: int = 0, greedy: bool = False) -> Callable:
    """A stateful policy of `net` for `evaluate_goals` (state reset when the env's step counter is 0)."""
    gen = torch.Generator().manual_seed(seed)
    memo: dict[str, Any] = {}

    def act(env: CityNavigation, obs: dict) -> int:
        if env.t == 0:
            memo.update(
                state=net.initial_state(1), a=torch.zeros(1, dtype=torch.long), r=torch.zeros(1), goals=0
            )
        with torch.no_grad():
            logits, _, _, memo["state"] = net(
                city,
                torch.as_tensor(obs["image"])[None],
                torch.as_tensor(obs["goal"])[None],
                memo["a"],
                memo["r"],
                memo["state"],
            )
        a = int(logits.argmax()) if greedy else int(torch.multinomial(logits.softmax(1), 1, generator=gen))
        memo["a"] = torch.tensor([a])
        return a

    return act
