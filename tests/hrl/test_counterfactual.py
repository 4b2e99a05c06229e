"""CF-GPS on the box-pushing SCM (`hrl.envs.box_push`, `hrl.counterfactual`): the noise posterior of a
fully observed episode reproduces it exactly when re-simulated, the target posterior by enumeration,
the planner against hand-counted plans, CF-GPS beating MB-PS and model-free at a tiny budget, configs."""

from __future__ import annotations

import numpy as np
import pytest

from core.errors import InputError
from hrl.counterfactual import (
    CFGPSConfig,
    Planner,
    run_policy_search,
    sample_posterior,
    step_noise_posterior,
    target_posterior,
)
from hrl.envs.box_push import BoxPushSCM, Scenario


def _random_episode(scm, seed):
    rng = np.random.default_rng(seed)
    scenario, noise = scm.sample_scenario(rng), scm.sample_step_noise(rng)
    return scenario, noise, scm.simulate(scenario, noise, lambda a, b, t: int(rng.integers(4)))


def test_noise_posterior_of_a_fully_observed_episode_reproduces_it_when_resimulated():
    scm = BoxPushSCM(size=5, horizon=30, slip=0.3)
    rng = np.random.default_rng(0)
    for seed in range(20):
        scenario, _, episode = _random_episode(scm, seed)
        for _ in range(3):
            drawn, noise = sample_posterior(scm, episode, rng, target=scenario.target)
            assert drawn == scenario
            actions = episode["actions"]
            again = scm.simulate(drawn, noise, lambda a, b, t, actions=actions: actions[t])
            assert again["agents"] == episode["agents"] and again["boxes"] == episode["boxes"]
            assert again["return"] == episode["return"]


def test_step_noise_posterior_is_the_prior_restricted_to_consistent_noise():
    scm = BoxPushSCM(size=3, slip=0.2)
    # agent in a corner pushing into the wall: every slip direction into a wall or the action itself
    # leaves it in place; up and left are walls from (0, 0), the box is at (1, 1)
    posterior = dict(step_noise_posterior(scm, (0, 0), (1, 1), 0, (0, 0), (1, 1)))
    expected = {(0, d): 0.8 / 4 for d in range(4)} | {(1, 0): 0.05, (1, 2): 0.05}
    total = sum(expected.values())
    assert posterior.keys() == expected.keys()
    for key, value in expected.items():
        assert posterior[key] == pytest.approx(value / total)
    with pytest.raises(InputError, match="impossible"):
        step_noise_posterior(scm, (0, 0), (1, 1), 0, (2, 2), (1, 1))


def test_target_posterior_matches_enumerating_the_prior():
    scm = BoxPushSCM(size=4, horizon=6, slip=0.1)
    scenario, _, episode = _random_episode(scm, 3)
    posterior = target_posterior(scm, episode)
    # brute force: every scenario of the prior with these starts, weighted by its prior probability,
    # kept when the episode's (deterministic given the noise) observations are consistent with it
    weights = {}
    for target in scm.target_cells:
        boxes = [c for c in scm.box_cells if c != target]
        agents = [c for c in scm.cells if c not in (scenario.box, target)]
        if scenario.box not in boxes or scenario.agent not in agents:
            continue
        solved_here = target in episode["boxes"][1:]
        consistent = (episode["solved"] and episode["boxes"][-1] == target) or (
            not episode["solved"] and not solved_here and target != scenario.box
        )
        if consistent:
            weights[target] = 1 / len(scm.target_cells) / len(boxes) / len(agents)
    total = sum(weights.values())
    assert posterior.keys() == weights.keys()
    for key, value in weights.items():
        assert posterior[key] == pytest.approx(value / total)


def test_planner_finds_hand_counted_shortest_plans():
    scm = BoxPushSCM(size=5)
    planner = Planner(scm)
    assert planner.plan_length((2, 0), (2, 1), (2, 3)) == 2  # two pushes right
    assert planner.act((2, 0), (2, 1), (2, 3)) == 3
    assert planner.plan_length((2, 3), (2, 2), (2, 0)) == 2  # two pushes left
    # box at (1, 1) to (3, 1): two steps round to (0, 1), then push down twice
    assert planner.plan_length((1, 2), (1, 1), (3, 1)) == 4
    assert planner.plan_length((2, 2), (0, 0), (4, 4)) is None  # a box in a corner cannot move


def test_cfgps_beats_mbps_and_model_free_with_a_misspecified_model():
    config = CFGPSConfig(episodes=100, eval_every=100, eval_episodes=100)
    final = {
        m: np.mean(
            [
                run_policy_search(CFGPSConfig(**{**config.__dict__, "method": m, "seed": s}))[-1]["value"]
                for s in (0, 1)
            ]
        )
        for m in ("cf-gps", "mb-ps", "model-free")
    }
    # measured (seeds 0, 1): CF-GPS 0.268, 0.249; MB-PS 0.163, 0.123; model-free 0.023, 0.039
    assert final["cf-gps"] > final["mb-ps"] + 0.05, final
    assert final["mb-ps"] > final["model-free"] + 0.05, final


@pytest.mark.parametrize(
    ("field", "value"),
    [("method", "dyna"), ("slip", 1.0), ("episodes", 0), ("real_targets", ((9, 9),)), ("smoothing", 0.0)],
)
def test_bad_configs_raise_one_clear_error(field, value):
    with pytest.raises(InputError, match=field):
        CFGPSConfig(**{field: value})
    with pytest.raises(InputError, match="size"):
        BoxPushSCM(size=2)


def test_scenarios_are_distinct_cells_with_the_box_off_the_walls():
    scm = BoxPushSCM(size=5, target_cells=((0, 4),))
    rng = np.random.default_rng(0)
    for _ in range(50):
        s = scm.sample_scenario(rng)
        assert isinstance(s, Scenario) and len({s.agent, s.box, s.target}) == 3 and s.target == (0, 4)
        assert 0 < s.box[0] < 4 and 0 < s.box[1] < 4


def test_cli_prints_the_value_curve_and_refuses_a_bad_config_in_one_line(capsys):
    from core.testing import exit_code, one_line_error
    from hrl.cli import main

    argv = ["cfgps", "--method", "mb-ps", "--episodes", "10", "--eval-every", "5", "--eval-episodes", "5"]
    assert exit_code(main, argv) == 0
    assert "value" in capsys.readouterr().out.splitlines()[-1]
    assert exit_code(main, [*argv, "--slip", "1.5"]) == 2
    one_line_error(capsys, "slip")
