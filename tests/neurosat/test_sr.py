"""SR(n) generator: pair invariants, labels checked by another solver, clause-length law, determinism."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from pysat.solvers import Solver

from core.errors import InputError
from neurosat.sr import generate_sr, solve_label, sr_pair


@pytest.fixture(scope="module")
def pairs() -> list:
    return generate_sr(60, 5, 20, seed=3)


def test_pairs_differ_by_exactly_one_negated_literal(pairs) -> None:
    for sat, unsat in zip(pairs[0::2], pairs[1::2]):
        assert sat.n_vars == unsat.n_vars
        assert sat.clauses[:-1] == unsat.clauses[:-1]
        last_sat, last_unsat = sat.clauses[-1], unsat.clauses[-1]
        differing = [(a, b) for a, b in zip(last_sat, last_unsat) if a != b]
        assert len(last_sat) == len(last_unsat) and len(differing) == 1
        assert differing[0][0] == -differing[0][1]


def test_labels_agree_with_an_independent_solver(pairs) -> None:
    for problem in pairs:
        with Solver(name="glucose4", bootstrap_with=[list(c) for c in problem.clauses]) as solver:
            assert solver.solve() == problem.is_sat
        label, model = solve_label(problem, solver="cadical153")
        assert label == problem.is_sat
        if label:
            true = set(model)
            assert all(any(lit in true for lit in clause) for clause in problem.clauses)


def test_every_prefix_of_the_unsat_formula_is_sat(pairs) -> None:
    # The generator stops at the first clause that makes the formula UNSAT.
    unsat = pairs[1]
    with Solver(name="glucose4", bootstrap_with=[list(c) for c in unsat.clauses[:-1]]) as solver:
        assert solver.solve()


def test_clauses_hold_distinct_variables_in_range(pairs) -> None:
    for problem in pairs:
        for clause in problem.clauses:
            variables = [abs(lit) for lit in clause]
            assert len(set(variables)) == len(variables)
            assert all(1 <= v <= problem.n_vars for v in variables)


def test_clause_lengths_follow_one_plus_bernoulli_plus_geometric() -> None:
    rng = np.random.default_rng(0)
    lengths = Counter()
    for _ in range(150):
        sat, _ = sr_pair(60, rng)
        lengths.update(len(c) for c in sat.clauses)
    total = sum(lengths.values())

    # Exact law of k = 1 + B + G, B ~ Bernoulli(0.3), G ~ Geometric(0.4) on {1, 2, ...}.
    def geometric(g: int) -> float:
        return 0.4 * 0.6 ** (g - 1) if g >= 1 else 0.0

    for k in range(2, 8):
        expected = 0.7 * geometric(k - 1) + 0.3 * geometric(k - 2)
        observed = lengths[k] / total
        assert abs(observed - expected) < 4 * np.sqrt(expected * (1 - expected) / total) + 1e-3, k


def test_generation_is_seeded_and_independent_of_jobs() -> None:
    one = generate_sr(20, 4, 8, seed=11, n_jobs=1, chunk_size=6)
    two = generate_sr(20, 4, 8, seed=11, n_jobs=2, chunk_size=6, prefer="threads")
    other = generate_sr(20, 4, 8, seed=12, n_jobs=1, chunk_size=6)
    assert one == two
    assert one != other
    assert {p.n_vars for p in one} <= set(range(4, 9))


def test_generator_rejects_bad_arguments() -> None:
    with pytest.raises(InputError, match="bad variable range"):
        generate_sr(3, 10, 5)
    with pytest.raises(InputError, match="positive"):
        generate_sr(0, 3, 5)
    with pytest.raises(InputError, match="at least two variables"):
        sr_pair(1, np.random.default_rng(0))
