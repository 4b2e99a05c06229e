"""Batch graph layout and the NeuroSAT network's symmetries."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from neurosat.cnf import Problem, make_problem
from neurosat.graph import batch_problems, batches_by_nodes
from neurosat.model import NeuroSAT, NeuroSATConfig
from neurosat.sr import generate_sr


@pytest.fixture(scope="module")
def problems() -> list[Problem]:
    return generate_sr(4, 4, 9, seed=5)


def test_batch_adjacency_matches_per_problem_dense_matrices(problems) -> None:
    batch = batch_problems(problems)
    dense = batch.adj.to_dense().numpy()
    row = col = 0
    for p in problems:
        expected = np.zeros((2 * p.n_vars, p.n_clauses))
        for j, clause in enumerate(p.clauses):
            for lit in clause:
                expected[lit - 1 if lit > 0 else p.n_vars - lit - 1, j] += 1
        block = dense[row : row + 2 * p.n_vars, col : col + p.n_clauses]
        np.testing.assert_array_equal(block, expected)
        assert dense[row : row + 2 * p.n_vars].sum() == expected.sum()  # nothing outside the block
        row, col = row + 2 * p.n_vars, col + p.n_clauses
    np.testing.assert_array_equal(batch.adj_t.to_dense().numpy(), dense.T)


def test_flip_swaps_each_literal_with_its_negation(problems) -> None:
    batch = batch_problems(problems)
    flip = batch.flip
    assert torch.equal(flip[flip], torch.arange(batch.n_literals))
    n0 = problems[0].n_vars
    assert flip[0].item() == n0 and flip[n0].item() == 0
    assert torch.equal(batch.lit_problem[flip], batch.lit_problem)


def test_batches_by_nodes_respects_the_budget(problems) -> None:
    sizes = [2 * p.n_vars + p.n_clauses for p in problems]
    groups = batches_by_nodes(problems, max(sizes) + 1)
    assert sorted(i for g in groups for i in g) == list(range(len(problems)))
    assert all(sum(sizes[i] for i in g) <= max(sizes) + 1 for g in groups)


def _relabel(problem: Problem, rng: np.random.Generator) -> Problem:
    """Permute variables, negate some of them everywhere, shuffle clauses and literals."""
    perm = rng.permutation(problem.n_vars) + 1
    sign = rng.choice([-1, 1], size=problem.n_vars)
    clauses = []
    for clause in problem.clauses:
        new = [int(np.sign(lit) * sign[abs(lit) - 1] * perm[abs(lit) - 1]) for lit in clause]
        clauses.append(tuple(new[i] for i in rng.permutation(len(new))))
    order = rng.permutation(len(clauses))
    return make_problem(problem.n_vars, [clauses[i] for i in order])


def test_prediction_is_invariant_to_renaming_negating_and_shuffling(problems) -> None:
    model = (
        NeuroSAT(NeuroSATConfig(d=16, rounds=6), generator=torch.Generator().manual_seed(0)).double().eval()
    )
    rng = np.random.default_rng(1)
    shuffled = [_relabel(p, rng) for p in problems]
    with torch.no_grad():
        original = model(batch_problems(problems))
        renamed = model(batch_problems(shuffled))
        reversed_batch = model(batch_problems(problems[::-1]))
    torch.testing.assert_close(renamed, original, rtol=1e-9, atol=1e-9)
    torch.testing.assert_close(reversed_batch.flip(0), original, rtol=1e-9, atol=1e-9)
    assert original.std() > 0  # the check would be vacuous for a constant output


def test_batched_logits_equal_one_at_a_time_logits(problems) -> None:
    model = (
        NeuroSAT(NeuroSATConfig(d=16, rounds=5), generator=torch.Generator().manual_seed(0)).double().eval()
    )
    with torch.no_grad():
        together = model(batch_problems(problems))
        alone = torch.cat([model(batch_problems([p])) for p in problems])
    torch.testing.assert_close(together, alone, rtol=1e-9, atol=1e-9)


def test_save_load_round_trip(tmp_path, problems) -> None:
    model = NeuroSAT(NeuroSATConfig(d=8, rounds=3, mlp_layers=2))
    model.save(tmp_path / "m.safetensors")
    again = NeuroSAT.load(tmp_path / "m.safetensors")
    assert again.config == model.config
    batch = batch_problems(problems)
    with torch.no_grad():
        torch.testing.assert_close(again(batch), model(batch))


def test_forward_flop_count_equals_torchs_flop_counter(problems) -> None:
    from torch.utils.flop_counter import FlopCounterMode

    from neurosat.flops import forward_flops

    config = NeuroSATConfig(d=16, rounds=3, mlp_layers=2)
    model = NeuroSAT(config, generator=torch.Generator().manual_seed(0))
    batch = batch_problems(problems)
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(batch)
    counted = forward_flops(config, batch.n_literals, batch.n_clauses, int(batch.edge_lit.shape[0]))
    # torch's counter sees the dense layers only (the sparse products are not dense matmuls).
    assert counter.get_total_flops() == counted["dense"]
