"""MAX on continuous tasks: the Jensen-Renyi novelty, the Gaussian ensemble, the maze coverage, the explorer."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from gymnasium.utils.env_checker import check_env

from core.errors import InputError
from hrl.active_exploration.config import ContinuousMAXConfig
from hrl.active_exploration.coverage import MazeCoverage, make_point_u_maze
from hrl.active_exploration.models import GaussianEnsemble, gaussian_jrd

TINY = ContinuousMAXConfig(
    ensemble_size=3,
    model_hidden=(8,),
    model_batch_size=16,
    model_steps=2,
    refit_every=5,
    warm_up_steps=10,
    policy_hidden=(8,),
    policy_batch_size=16,
    imagined_rollouts=4,
    imagined_horizon=3,
    policy_iterations=1,
    policy_updates=2,
    total_timesteps=40,
)


def _renyi2_by_quadrature(density, grid, cell):
    return -math.log(float((density(grid) ** 2).sum() * cell))


def test_jrd_equals_the_renyi_entropies_computed_by_quadrature_in_one_and_two_dimensions():
    rng = np.random.default_rng(0)
    members = 3
    for dims in (1, 2):
        mean = rng.normal(0, 1, (members, 1, dims))
        var = rng.uniform(0.2, 1.5, (members, 1, dims))
        axis = np.linspace(-12, 12, 1201 if dims == 1 else 601)
        step = axis[1] - axis[0]
        grid = np.stack(np.meshgrid(*[axis] * dims, indexing="ij"), -1).reshape(-1, dims)

        def gaussian(k, x, mean=mean, var=var):
            return np.prod(
                np.exp(-0.5 * (x - mean[k, 0]) ** 2 / var[k, 0]) / np.sqrt(2 * np.pi * var[k, 0]), -1
            )

        mixture = _renyi2_by_quadrature(
            lambda x: np.mean([gaussian(k, x) for k in range(members)], 0), grid, step**dims
        )
        each = np.mean(
            [_renyi2_by_quadrature(lambda x, k=k: gaussian(k, x), grid, step**dims) for k in range(members)]
        )
        ours = float(gaussian_jrd(torch.from_numpy(mean), torch.from_numpy(var))[0])
        assert ours == pytest.approx(mixture - each, abs=1e-6)
        assert ours > 0


def test_jrd_of_identical_members_is_zero_and_bad_shapes_raise():
    mean = torch.randn(1, 5, 3).expand(4, 5, 3)
    var = torch.rand(1, 5, 3).add(0.1).expand(4, 5, 3)
    assert torch.allclose(gaussian_jrd(mean, var), torch.zeros(5), atol=1e-5)
    with pytest.raises(InputError, match="shape"):
        gaussian_jrd(torch.zeros(4, 5, 3), torch.ones(4, 5, 2))


def test_the_fitted_ensemble_is_less_novel_on_its_data_than_far_from_it():
    generator = torch.Generator().manual_seed(0)
    obs = torch.rand(200, 2, generator=generator) * 4  # states in [0, 4]^2
    action = torch.rand(200, 2, generator=generator) * 2 - 1
    next_obs = obs + action + 0.05 * torch.randn(200, 2, generator=generator)
    models = GaussianEnsemble(2, 2, members=4, hidden=(16, 16), lr=1e-2, seed=0)
    models.fit(obs, action, next_obs, models.bootstrap_counts(200), steps=100, batch_size=64)
    near = models.novelty(obs[:100], action[:100]).mean()
    far = models.novelty(obs[:100] + 20.0, action[:100]).mean()
    assert far > 3 * near  # measured 0.34 and 1.386 (log 4, the most 4 members can disagree)
    assert far <= math.log(4) + 1e-4
    with torch.no_grad():
        mean, _ = models.next_state(obs[:100], action[:100])
    assert (mean.mean(0) - (obs[:100] + action[:100])).abs().mean() < 0.1  # measured 0.03


def test_maze_coverage_counts_bins_of_free_cells_only():
    coverage = MazeCoverage()
    assert coverage.bins == 7 * 16  # the U-maze's 7 free cells, 4 x 4 bins each
    assert coverage.update(np.array([[0.0, 0.0], [0.5, 0.5], [1.9, 0.1]])) == 1 / 112  # one bin
    coverage.update(np.array([[2.1, 0.0], [0.0, 8.0]]))  # a new bin; (0, 8) lies in a wall cell
    assert len(coverage.visited) == 2
    walk = np.stack([np.linspace(-3.5, 19.5, 100), np.zeros(100)], 1)  # the corridor's middle row
    assert coverage.update(walk) == pytest.approx(12 / 112)
    with pytest.raises(InputError, match="bin_size"):
        MazeCoverage(bin_size=3.0)


def test_the_point_u_maze_passes_check_env_and_starts_at_the_origin():
    env = make_point_u_maze(10)
    check_env(env.unwrapped, skip_render_check=True)
    obs, _ = env.reset(seed=0)
    assert obs.shape == (2,) and np.allclose(obs, 0)
    with pytest.raises(InputError, match="episode_steps"):
        make_point_u_maze(0)


@pytest.mark.parametrize(
    "field, value",
    [
        ("method", "greedy"),
        ("ensemble_size", 1),
        ("model_hidden", ()),
        ("warm_up_steps", 1),
        ("alpha", 0),
        ("gamma", 2.0),
    ],
)
def test_bad_configs_raise_naming_the_field(field, value):
    with pytest.raises(InputError, match=field):
        ContinuousMAXConfig(**{field: value})


def test_every_method_runs_and_a_killed_max_run_resumes_bit_identically(tmp_path):
    from dataclasses import replace

    from core.resume import CheckpointMismatchError
    from hrl.active_exploration.explorer import ContinuousMAX

    for method in ("random", "reactive"):
        explorer = ContinuousMAX(make_point_u_maze(10), replace(TINY, method=method)).learn()
        assert explorer.num_timesteps == 40 and len(explorer.history) == 4
    whole = ContinuousMAX(make_point_u_maze(10), TINY).learn()
    path = tmp_path / "max.safetensors"
    ContinuousMAX(make_point_u_maze(10), TINY).learn(20, checkpoint=path)
    resumed = ContinuousMAX(make_point_u_maze(10), TINY).learn(40, checkpoint=path)
    assert resumed.history == whole.history and resumed.policies_trained == whole.policies_trained == 7
    for name in ("obs", "action", "counts"):
        assert np.array_equal(resumed.buffer.data[name], whole.buffer.data[name])
    for a, b in zip(resumed.policy.actor.parameters(), whole.policy.actor.parameters()):
        assert torch.equal(a, b)
    with pytest.raises(CheckpointMismatchError, match="alpha"):
        ContinuousMAX(make_point_u_maze(10), replace(TINY, alpha=0.5)).learn(40, checkpoint=path)
