"""HIRO's goal machinery: the transition keeps the absolute target fixed, the low-level reward is the
distance to it, and the off-policy correction (vectorised over batch and candidates) picks the goal
that generated the stored actions, matching a per-item, per-candidate loop."""

from __future__ import annotations

import numpy as np
import torch

from hrl.goals import (
    correction_candidates,
    goal_log_likelihood,
    goal_transition,
    low_level_reward,
    off_policy_goal_correction,
    propagate_goal,
)

IDX = (0, 2)  # goal on two of the four state dimensions
LOW, HIGH = torch.tensor([-10.0, -5.0]), torch.tensor([10.0, 5.0])


def _policy(seed: int = 0):
    """A fixed deterministic low-level policy mu(s, g) on [s (4), g (2)] -> 3 actions."""
    g = torch.Generator().manual_seed(seed)
    net = torch.nn.Sequential(torch.nn.Linear(6, 16), torch.nn.Tanh(), torch.nn.Linear(16, 3))
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.randn(p.shape, generator=g))
    return net


def test_goal_transition_keeps_the_absolute_target_fixed_over_c_steps():
    rng = np.random.default_rng(0)
    states = rng.normal(size=(11, 4))  # s_0 .. s_10 (c = 10)
    goal = rng.normal(size=2)
    target = states[0, list(IDX)] + goal
    for i in range(10):
        goal = goal_transition(states[i], goal, states[i + 1], IDX)
        np.testing.assert_allclose(states[i + 1, list(IDX)] + goal, target, atol=1e-12)


def test_propagate_goal_equals_applying_h_step_by_step():
    g = torch.Generator().manual_seed(1)
    states = torch.randn(3, 5, 4, generator=g, dtype=torch.float64)
    goals = torch.randn(3, 2, 2, generator=g, dtype=torch.float64)
    propagated = propagate_goal(states, goals, IDX)
    assert propagated.shape == (3, 2, 5, 2)
    for b in range(3):
        for k in range(2):
            goal = goals[b, k]
            for i in range(5):
                torch.testing.assert_close(propagated[b, k, i], goal)
                if i < 4:
                    goal = goal_transition(states[b, i], goal, states[b, i + 1], IDX)


def test_low_level_reward_is_minus_the_distance_to_the_target():
    rng = np.random.default_rng(2)
    s, s_next, g = rng.normal(size=(7, 4)), rng.normal(size=(7, 4)), rng.normal(size=(7, 2))
    expected = -np.linalg.norm(s[:, [0, 2]] + g - s_next[:, [0, 2]], axis=1)
    np.testing.assert_allclose(low_level_reward(s, g, s_next, IDX), expected)
    assert abs(float(low_level_reward(s[0], s_next[0, [0, 2]] - s[0, [0, 2]], s_next[0], IDX))) < 1e-12


def _generated(policy, goal_star: torch.Tensor, seed: int, c: int = 10):
    """States and the actions mu produced under goal_star propagated by h (one trajectory)."""
    g = torch.Generator().manual_seed(seed)
    states = torch.randn(c + 1, 4, generator=g)
    goals = propagate_goal(states[None, :c], goal_star[None, None], IDX)[0, 0]  # (c, 2)
    with torch.no_grad():
        actions = policy(torch.cat([states[:c], goals], dim=-1))
    return states, actions


def test_correction_picks_the_generating_goal_with_a_deterministic_low_level_policy():
    policy = _policy()
    g = torch.Generator().manual_seed(5)
    states, actions, stored, generating = [], [], [], []
    for item in range(16):
        goal_star = (torch.rand(2, generator=g) * 2 - 1) * HIGH
        s, a = _generated(policy, goal_star, seed=100 + item)
        if item % 2 == 0:  # the stored goal is the generating one (the low level has not changed)
            stored.append(goal_star)
        else:  # a stale goal is stored; the generating goal is the achieved change s_{t+c} - s_t
            s[-1, list(IDX)] = s[0, list(IDX)] + goal_star
            stored.append((torch.rand(2, generator=g) * 2 - 1) * HIGH)
        states.append(s)
        actions.append(a)
        generating.append(goal_star)
    states, actions = torch.stack(states), torch.stack(actions)
    corrected = off_policy_goal_correction(
        policy,
        states,
        actions,
        torch.stack(stored),
        LOW,
        HIGH,
        IDX,
        generator=torch.Generator().manual_seed(0),
    )
    torch.testing.assert_close(corrected, torch.stack(generating), atol=1e-5, rtol=0)


def test_vectorised_scores_match_a_loop_over_items_and_candidates():
    policy = _policy(seed=3)
    g = torch.Generator().manual_seed(7)
    states, actions = torch.randn(4, 11, 4, generator=g), torch.randn(4, 10, 3, generator=g)
    candidates = correction_candidates(
        states, torch.randn(4, 2, generator=g), LOW, HIGH, IDX, generator=torch.Generator().manual_seed(1)
    )
    assert candidates.shape == (4, 10, 2)
    assert torch.all(candidates[:, 2:] >= LOW) and torch.all(candidates[:, 2:] <= HIGH)
    torch.testing.assert_close(candidates[:, 1], states[:, -1, list(IDX)] - states[:, 0, list(IDX)])
    scores = goal_log_likelihood(policy, states, actions, candidates, IDX)
    for b in range(4):
        for k in range(10):
            goal, total = candidates[b, k], 0.0
            for i in range(10):
                with torch.no_grad():
                    mu = policy(torch.cat([states[b, i], goal])[None])[0]
                total += -0.5 * float(((actions[b, i] - mu) ** 2).sum())
                goal = goal_transition(states[b, i], goal, states[b, i + 1], IDX)
            assert abs(float(scores[b, k]) - total) < 1e-3 * max(1.0, abs(total))
