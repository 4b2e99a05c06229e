"""Causal InfoGAN parts: the maze's feasibility check on hand-made plans, the planner against brute force, learning, resuming."""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pytest
import torch

from core.errors import CheckpointMismatchError, InputError
from genmodels.causal_infogan import (
    CausalInfoGAN,
    decode_plan,
    fit_causal_infogan,
    interpolate,
    match_codes,
    shortest_path,
)
from genmodels.cli import main
from genmodels.config import CausalInfoGANConfig, CausalInfoGANRunConfig, TrainConfig
from genmodels.experiments.causal_infogan import blank_error, evaluate_plans, image_error, route_transitions
from genmodels.maze import Maze


def test_feasibility_of_hand_made_transitions():
    maze = Maze()
    start = np.array([[0.2, 0.2], [0.45, 0.2], [0.45, 0.85], [0.1, 0.1], [0.5, 0.1], [0.3, 0.5]])
    end = np.array([[0.3, 0.2], [0.55, 0.2], [0.55, 0.85], [0.4, 0.1], [0.5, 0.2], [0.3, 0.5]])
    # a short move; through the wall; through the door; too long; along the wall; staying put
    assert maze.crosses_wall(start, end).tolist() == [False, True, False, False, False, False]
    assert maze.feasible(start, end).tolist() == [True, False, True, False, True, True]


def test_a_hand_made_plan_is_scored_transition_by_transition():
    maze = Maze()
    good = np.array([[0.3, 0.8], [0.42, 0.85], [0.55, 0.85], [0.65, 0.8]])
    bad = np.array([[0.3, 0.3], [0.45, 0.3], [0.55, 0.3], [0.9, 0.3]])  # wall, then a jump
    row = evaluate_plans(maze, [good, bad], np.array([good[0], bad[0]]), np.array([good[-1], bad[-1]]))
    assert row["feasible transitions"].mean == pytest.approx((1.0 + 1 / 3) / 2)
    assert row["through the wall"].mean == pytest.approx((0 + 1 / 3) / 2)
    assert row["plans all feasible"] == 0.5 and row["start and goal reached"] == 1.0
    assert route_transitions(maze, np.array([[0.2, 0.3]]), np.array([[0.8, 0.3]])) > 0.6 / maze.step
    assert image_error(maze, maze.render(good)) < 1e-3
    corner = np.mean(maze.render(np.array([[0.0, 0.0]])) ** 2)
    assert blank_error(maze) == pytest.approx(corner, rel=0.05)


def test_maze_renders_reads_back_and_is_deterministic_given_a_seed():
    maze = Maze()
    start, end = maze.transitions(500, seed=3)
    assert maze.feasible(start, end).all() and not maze.crosses_wall(start, end).any()
    again = maze.transitions(500, seed=3)
    assert np.array_equal(start, again[0]) and np.array_equal(end, again[1])
    located = maze.locate(maze.render(start))
    assert np.abs(located - start).max() <= 1 / (maze.grid - 1)
    assert maze.pairs(4, seed=1).shape == (4, 2, maze.size**2)
    with pytest.raises(InputError, match="door"):
        Maze(door=(0.9, 0.2))


def test_shortest_path_matches_brute_force_on_a_tiny_graph():
    rng = np.random.default_rng(0)
    nodes = rng.uniform(0, 1, size=(7, 2))
    radius = 0.5
    distance = np.linalg.norm(nodes[:, None] - nodes[None], axis=-1)
    best = np.inf
    for k in range(6):
        for middle in itertools.permutations(range(1, 6), k):
            route = [0, *middle, 6]
            steps = [distance[a, b] for a, b in itertools.pairwise(route)]
            if max(steps) <= radius:
                best = min(best, sum(steps))
    path = shortest_path(nodes, radius, 0, 6)
    assert path is not None and path[0] == 0 and path[-1] == 6
    assert sum(distance[a, b] for a, b in itertools.pairwise(path)) == pytest.approx(best)
    assert shortest_path(np.array([[0.0, 0.0], [1.0, 0.0]]), 0.5, 0, 1) is None
    line = interpolate(np.zeros(2), np.ones(2), 4)
    assert line.shape == (5, 2) and np.allclose(np.diff(line, axis=0), 0.25)
    with pytest.raises(InputError, match="transition"):
        interpolate(np.zeros(2), np.ones(2), 0)


def _tiny(epochs, causal=True, **model):
    return CausalInfoGANRunConfig(
        CausalInfoGANConfig(obs_dim=64, hidden=32, causal=causal, **model),
        TrainConfig(epochs=epochs, batch_size=32, learning_rate=1e-3),
    )


def test_a_killed_run_resumes_exactly_and_refuses_another_config(tmp_path):
    pairs = torch.from_numpy(Maze(size=8).pairs(96, seed=0))
    reference, reference_history = fit_causal_infogan(pairs, _tiny(3))

    class Crash(Exception):
        pass

    def crash(epoch, row):
        if epoch == 2:
            raise Crash

    path = tmp_path / "gan.safetensors"
    with pytest.raises(Crash):
        fit_causal_infogan(pairs, _tiny(3), checkpoint=path, on_epoch=crash)
    resumed, history = fit_causal_infogan(pairs, _tiny(3), checkpoint=path)
    assert history == reference_history
    for a, b in zip(reference.state_dict().values(), resumed.state_dict().values()):
        assert torch.equal(a, b)
    with pytest.raises(CheckpointMismatchError, match="info_weight"):
        fit_causal_infogan(
            pairs, replace(_tiny(3), model=replace(_tiny(3).model, info_weight=2.0)), checkpoint=path
        )
    with pytest.raises(InputError, match="shape"):
        fit_causal_infogan(pairs[:, 0], _tiny(1))


def test_decoded_plans_have_one_image_per_code_and_match_codes_finds_the_generating_code():
    for causal, shared in ((True, True), (True, False), (False, True)):
        model = CausalInfoGAN(_tiny(1, causal=causal, shared_generator=shared).model)
        z = torch.zeros(1, model.config.noise_dim)
        codes = np.random.default_rng(0).uniform(-1, 1, size=(5, 2))
        frames = decode_plan(model, codes, z)
        assert frames.shape == (5, 64)
        generated = model.generate(
            z.expand(5, -1), torch.as_tensor(codes, dtype=torch.float32)[:, None].expand(-1, model.width, -1)
        )
        assert match_codes(model, generated[:, 0].detach().numpy(), codes, z).tolist() == [0, 1, 2, 3, 4]


def test_the_learned_transition_starts_as_the_fixed_prior_and_trains_with_the_generator():
    codes = torch.rand(50, 2) * 2 - 1
    for transition in ("fixed", "learned"):
        model = CausalInfoGAN(_tiny(1, transition=transition).model)
        mean, sd = model.transition_moments(codes)
        assert torch.equal(mean, codes) and torch.allclose(sd, torch.full_like(sd, 0.1))
        assert model.move_radius(codes) == pytest.approx(0.2)
    assert not hasattr(CausalInfoGAN(_tiny(1, transition="fixed").model), "transition")
    pairs = torch.from_numpy(Maze(size=8).pairs(96, seed=0))
    trained, _ = fit_causal_infogan(pairs, _tiny(1, transition="learned"))
    assert trained.transition[-1].weight.abs().sum() > 0  # the generator's optimiser moved it
    assert "image_head" in trained.discriminator
    assert "image_head" not in CausalInfoGAN(_tiny(1, image_discriminator=False).model).discriminator
    with pytest.raises(InputError, match="unknown transition"):
        CausalInfoGANConfig(transition="drawn")


def test_the_local_transition_never_moves_further_than_its_bound():
    codes = torch.rand(200, 2) * 2 - 1
    model = CausalInfoGAN(_tiny(1, transition="local").model)
    mean, sd = model.transition_moments(codes)
    assert torch.equal(mean, codes) and torch.allclose(sd, torch.full_like(sd, 0.1))  # starts as the prior
    with torch.no_grad():  # any weights: shifts within sigma per coordinate, sd within sigma
        for parameter in model.transition.parameters():
            parameter.normal_(0.0, 10.0)
    mean, sd = model.transition_moments(codes)
    assert (mean - codes).abs().max() <= 0.1 + 1e-6 and sd.max() <= 0.1 + 1e-6
    assert (mean - codes).abs().max() > 0.05  # the bound is reached, not a zero shift
    assert model.move_radius(codes) <= 0.1 * (2**0.5 + 2) + 1e-6


def test_causal_infogan_learns_feasible_pairs():
    """Generated pairs (o, o') are one move apart far more often than two independent generated images."""
    maze = Maze(size=8)
    pairs = torch.from_numpy(maze.pairs(2000, seed=0))
    model, _ = fit_causal_infogan(pairs, _tiny(8))
    z, codes = model.sample_codes(400, torch.Generator().manual_seed(1))
    with torch.no_grad():
        images = model.generate(z, codes).numpy()
    first, second = maze.locate(images[:, 0]), maze.locate(images[:, 1])
    paired = maze.feasible(first, second).mean()
    shuffled = maze.feasible(first, np.roll(second, 1, axis=0)).mean()
    assert paired > shuffled + 0.3, (paired, shuffled)


def test_cli_trains_and_refuses_bad_sizes(tmp_path, capsys):
    argv = ["fit-causal-infogan", "--pairs", "64", "--hidden", "8", "--epochs", "1", "--batch-size", "32"]
    assert main([*argv, "--out", str(tmp_path / "run")]) == 0
    assert (tmp_path / "run" / "causal-infogan.safetensors").is_file()
    capsys.readouterr()
    assert main([*argv, "--code-dim", "0", "--out", str(tmp_path / "r2")]) == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and "sizes must be >= 1" in error
