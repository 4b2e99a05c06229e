"""HIRO's goal machinery (Nachum, Gu, Lee and Levine, NeurIPS 2018, sec. 3).

A goal is a desired *relative* change of (a chosen subset of) the state: the high level emits g_t
every c steps, and between its decisions the goal follows the fixed transition

    h(s_t, g_t, s_{t+1}) = s_t + g_t - s_{t+1}            (eq. 2)

which keeps the absolute target s_t + g_t where it was. The low level is rewarded for reaching it,
r(s_t, g_t, a_t, s_{t+1}) = -||s_t + g_t - s_{t+1}||_2 (eq. 3). Old high-level transitions are
relabelled with the goal under which the *current* low-level policy most likely produces the stored
actions (eq. 5, the off-policy correction): with a deterministic low-level policy mu,
log mu(a_{t:t+c-1} | s_{t:t+c-1}, g~_{t:t+c-1}) is taken as -1/2 sum_i ||a_i - mu(s_i, g~_i)||^2, up to
a constant, maximised over 10 candidates: the original goal, s_{t+c} - s_t, and 8 draws from a Gaussian
centred at s_{t+c} - s_t.

Every function works on the goal dimensions ``goal_indices`` of the state (``(0, 1)``: x, y only;
``range(obs_dim)``: the raw observation).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

__all__ = [
    "correction_candidates",
    "goal_log_likelihood",
    "goal_transition",
    "low_level_reward",
    "off_policy_goal_correction",
    "propagate_goal",
]


def goal_transition(state: Any, goal: Any, next_state: Any, goal_indices: Sequence[int]) -> Any:
    """h(s, g, s') = s[idx] + g - s'[idx]: the goal that keeps the absolute target fixed.

    Args:
        state, next_state: (..., obs_dim) arrays or tensors.
        goal: (..., goal_dim) with goal_dim = len(goal_indices).

    Returns:
        (..., goal_dim), of goal's type.
    """
    index = list(goal_indices)
    return state[..., index] + goal - next_state[..., index]


def low_level_reward(state: Any, goal: Any, next_state: Any, goal_indices: Sequence[int]) -> Any:
    """r(s, g, a, s') = -||s[idx] + g - s'[idx]||_2: (...,) for (..., obs_dim) states, (..., goal_dim) goals."""
    gap = goal_transition(state, goal, next_state, goal_indices)
    return -((gap**2).sum(-1) ** 0.5)


def propagate_goal(states: torch.Tensor, goal: torch.Tensor, goal_indices: Sequence[int]) -> torch.Tensor:
    """The goals g_0..g_{c-1} that h produces from g_0 = `goal` along stored states.

    h applied i times gives g_i = s_0[idx] + g_0 - s_i[idx] (the absolute target s_0 + g_0 is fixed).

    Args:
        states: (B, c + 1, obs_dim) or (B, c, obs_dim): s_t .. s_{t+c-1} (a trailing s_{t+c} is ignored
            only if the caller slices it off; every given state gets a goal).
        goal: (B, K, goal_dim) candidate initial goals (K candidates per item).

    Returns:
        (B, K, T, goal_dim) where T = states.shape[1].
    """
    index = list(goal_indices)
    first = states[:, None, :1, index]  # (B, 1, 1, goal_dim)
    return first + goal[:, :, None, :] - states[:, None, :, index]


def correction_candidates(
    states: torch.Tensor,
    goal: torch.Tensor,
    goal_low: torch.Tensor,
    goal_high: torch.Tensor,
    goal_indices: Sequence[int],
    *,
    num_samples: int = 8,
    scale: float = 0.5,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """The candidate goals of the correction: [original, s_{t+c} - s_t, num_samples Gaussian draws].

    The draws are centred at s_{t+c} - s_t with sd ``scale`` x the goal half-range and clipped to
    [goal_low, goal_high] (HIRO's reference code).

    Args:
        states: (B, c + 1, obs_dim): s_t .. s_{t+c}.
        goal: (B, goal_dim): the goal the high level stored.
        goal_low, goal_high: (goal_dim,) the high level's goal range.

    Returns:
        (B, 2 + num_samples, goal_dim).
    """
    index = list(goal_indices)
    achieved = states[:, -1, index] - states[:, 0, index]  # (B, goal_dim)
    half_range = (goal_high - goal_low) / 2
    noise = torch.randn(
        (goal.shape[0], num_samples, goal.shape[1]), generator=generator, device=goal.device, dtype=goal.dtype
    )
    sampled = torch.maximum(
        torch.minimum(achieved[:, None, :] + scale * half_range * noise, goal_high), goal_low
    )
    return torch.cat([goal[:, None, :], achieved[:, None, :], sampled], dim=1)


def goal_log_likelihood(
    policy: Callable[[torch.Tensor], torch.Tensor],
    states: torch.Tensor,
    actions: torch.Tensor,
    candidates: torch.Tensor,
    goal_indices: Sequence[int],
) -> torch.Tensor:
    """-1/2 sum_i ||a_i - mu(s_i, g~_i)||^2 for every candidate, in one batched policy call.

    Args:
        policy: the low-level actor, (N, obs_dim + goal_dim) -> (N, action_dim), input [s, g].
        states: (B, c + 1, obs_dim) or (B, c, obs_dim); the first c states are used.
        actions: (B, c, action_dim): the stored low-level actions.
        candidates: (B, K, goal_dim): initial goals to score.

    Returns:
        (B, K): the log-likelihood (up to a constant) of the stored actions under each candidate.
    """
    batch, count = candidates.shape[:2]
    c = actions.shape[1]
    seen = states[:, :c]  # (B, c, obs_dim)
    goals = propagate_goal(seen, candidates, goal_indices)  # (B, K, c, goal_dim)
    inputs = torch.cat([seen[:, None].expand(batch, count, *seen.shape[1:]), goals], dim=-1)
    with torch.no_grad():
        predicted = policy(inputs.reshape(batch * count * c, -1)).reshape(batch, count, c, -1)
    return -0.5 * ((predicted - actions[:, None]) ** 2).sum(dim=(-1, -2))


def off_policy_goal_correction(
    policy: Callable[[torch.Tensor], torch.Tensor],
    states: torch.Tensor,
    actions: torch.Tensor,
    goal: torch.Tensor,
    goal_low: torch.Tensor,
    goal_high: torch.Tensor,
    goal_indices: Sequence[int],
    *,
    num_samples: int = 8,
    scale: float = 0.5,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Relabel stored high-level goals with the candidate the current low level most likely followed.

    Args:
        policy: the current low-level actor on [s, g] inputs.
        states: (B, c + 1, obs_dim): s_t .. s_{t+c} of each stored high-level transition.
        actions: (B, c, action_dim): the low-level actions taken.
        goal: (B, goal_dim): the goals the high level emitted.
        goal_low, goal_high: (goal_dim,) the goal range.

    Returns:
        (B, goal_dim): the relabelled goals (ties: the earliest candidate, so the original goal wins
        when it is as likely as any other).
    """
    candidates = correction_candidates(
        states,
        goal,
        goal_low,
        goal_high,
        goal_indices,
        num_samples=num_samples,
        scale=scale,
        generator=generator,
    )
    best = goal_log_likelihood(policy, states, actions, candidates, goal_indices).argmax(dim=1)
    return candidates[torch.arange(candidates.shape[0], device=candidates.device), best]
