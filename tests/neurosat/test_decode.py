"""Assignment decoding: paired 2-means against an explicit-centre reference, verification, `solve`."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from pysat.formula import CNF

from neurosat.cnf import evaluate, make_problem
from neurosat.decode import cluster_sides, decode, satisfied
from neurosat.evaluation import random_assignment_baseline, round_curves, solve
from neurosat.graph import batch_problems
from neurosat.model import NeuroSAT, NeuroSATConfig
from neurosat.sr import generate_sr


def _reference_paired_two_means(x: np.ndarray, xbar: np.ndarray, sides: np.ndarray, iterations: int = 50):
    """The paper's criterion with explicit centres Δ1, Δ2, run from given initial sides."""
    for _ in range(iterations):
        cluster1 = np.where(sides[:, None], x, xbar)
        cluster2 = np.where(sides[:, None], xbar, x)
        delta1, delta2 = cluster1.mean(0), cluster2.mean(0)
        cost_same = ((x - delta1) ** 2).sum(1) + ((xbar - delta2) ** 2).sum(1)
        cost_swap = ((x - delta2) ** 2).sum(1) + ((xbar - delta1) ** 2).sum(1)
        new = cost_same <= cost_swap
        if np.array_equal(new, sides):
            break
        sides = new
    return sides


@pytest.fixture(scope="module")
def batch_and_embeddings():
    problems = generate_sr(6, 5, 12, seed=2)
    batch = batch_problems(problems)
    h = torch.randn(batch.n_literals, 7, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    return problems, batch, h


def test_cluster_sides_is_a_fixed_point_of_the_papers_two_means(batch_and_embeddings) -> None:
    problems, batch, h = batch_and_embeddings
    sides = cluster_sides(batch, h).numpy()
    start_var = 0
    for b, p in enumerate(problems):
        rows = batch.lit_offset[b].item()
        x = h[rows : rows + p.n_vars].numpy()
        xbar = h[rows + p.n_vars : rows + 2 * p.n_vars].numpy()
        ours = sides[start_var : start_var + p.n_vars]
        # Lloyd's iterations with explicit centres, started at our answer, do not move it.
        np.testing.assert_array_equal(_reference_paired_two_means(x, xbar, ours.copy()), ours)
        start_var += p.n_vars


def test_cluster_sides_recovers_planted_clusters() -> None:
    problem = make_problem(30, [(1, 2)])
    batch = batch_problems([problem])
    rng = np.random.default_rng(0)
    planted = rng.random(30) < 0.5
    centre = rng.normal(size=8) * 3
    x = np.where(planted[:, None], centre, -centre) + rng.normal(size=(30, 8)) * 0.5
    xbar = np.where(planted[:, None], -centre, centre) + rng.normal(size=(30, 8)) * 0.5
    h = torch.tensor(np.concatenate([x, xbar]))
    sides = cluster_sides(batch, h).numpy()
    assert np.array_equal(sides, planted) or np.array_equal(sides, ~planted)


def test_decoded_models_always_satisfy_and_failures_are_real(batch_and_embeddings) -> None:
    problems, batch, h = batch_and_embeddings
    votes = h[:, 0]
    result = decode(batch, h, votes)
    sides = cluster_sides(batch, h)
    start = 0
    for b, p in enumerate(problems):
        model = result.models[b]
        if model is not None:
            assert evaluate(p, model) and result.method[b] in ("2-means", "vote")
        else:  # none of the four candidate maps satisfies the formula
            rows = batch.lit_offset[b].item()
            vote_sides = (
                votes[rows : rows + p.n_vars] > votes[rows + p.n_vars : rows + 2 * p.n_vars]
            ).tolist()
            for candidate in (sides[start : start + p.n_vars].tolist(), vote_sides):
                for flip in (False, True):
                    signed = [(i + 1) if (v ^ flip) else -(i + 1) for i, v in enumerate(candidate)]
                    assert not evaluate(p, signed)
        start += p.n_vars
    assert result.solved.tolist() == [m is not None for m in result.models]


def test_satisfied_matches_python_evaluation(batch_and_embeddings) -> None:
    problems, batch, _ = batch_and_embeddings
    rng = np.random.default_rng(4)
    for _ in range(20):
        assignment = torch.tensor(rng.random(batch.n_literals // 2) < 0.5)
        got = satisfied(batch, assignment).tolist()
        start, expected = 0, []
        for p in problems:
            values = assignment[start : start + p.n_vars].tolist()
            expected.append(evaluate(p, [(i + 1) if v else -(i + 1) for i, v in enumerate(values)]))
            start += p.n_vars
        assert got == expected


def test_decode_finds_a_planted_solution_in_the_embeddings() -> None:
    problem = make_problem(4, [(1, -2), (2, 3), (-3, 4), (-1, -4, 2)])
    solution = [True, True, False, True]
    assert evaluate(problem, [(i + 1) if v else -(i + 1) for i, v in enumerate(solution)])
    batch = batch_problems([problem])
    centre = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)
    truth = torch.tensor(solution + [not v for v in solution])
    h = torch.where(truth[:, None], centre, -centre) + 0.01 * torch.arange(8, dtype=torch.float64)[:, None]
    result = decode(batch, h, methods=("2-means",))
    assert result.models[0] == [1, 2, -3, 4]


def test_solve_returns_verified_model_or_none_and_curves_are_fractions() -> None:
    model = NeuroSAT(NeuroSATConfig(d=8, rounds=4, mlp_layers=1), generator=torch.Generator().manual_seed(0))
    easy = CNF(from_clauses=[[1, 2], [-1, 2], [2, 3]])
    answer = solve(easy, model, rounds=4)
    if answer is not None:
        assert evaluate(make_problem(3, easy.clauses), answer)
    unsat = CNF(from_clauses=[[1], [-1]])
    assert solve(unsat, model, rounds=3) is None
    curves = round_curves(model, generate_sr(3, 4, 6, seed=0), 3)
    assert (
        curves.accuracy.shape == (3,)
        and ((curves.decoded_by >= curves.decoded) & (curves.decoded_by <= 1)).all()
    )
    assert np.all(np.diff(curves.decoded_by) >= 0)


def test_random_guess_baseline_matches_closed_form() -> None:
    # (x1 or x2) and (not x1 or not x2) on 3 variables: 4 of the 8 assignments satisfy it, so
    # k uniform guesses succeed with probability 1 - (1/2)^k.
    problem = make_problem(3, [(1, 2), (-1, -2)], is_sat=True)
    for tries, expected in [(1, 0.5), (2, 0.75)]:
        share = random_assignment_baseline([problem] * 600, tries, seed=tries)
        assert abs(share - expected) < 4 * np.sqrt(expected * (1 - expected) / 600)
    always = make_problem(2, [(1, -1)], is_sat=True)
    assert random_assignment_baseline([always, always.with_label(False)], 1) == 1.0
