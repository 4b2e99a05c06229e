"""Evaluation on what users have: unlabelled, one-class and labelled folders, AUC, batch solve, PySAT path."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from core.errors import InputError
from neurosat.batch_solve import solve_many
from neurosat.cnf import make_problem, read_dimacs, write_dimacs
from neurosat.dataset import load_problems, natural_key
from neurosat.evaluation import roc_auc, round_curves, solve
from neurosat.model import NeuroSAT, NeuroSATConfig
from neurosat.sr import generate_sr


@pytest.fixture(scope="module")
def model() -> NeuroSAT:
    return NeuroSAT(NeuroSATConfig(d=8, rounds=3, mlp_layers=1), generator=torch.Generator().manual_seed(1))


def test_roc_auc_equals_the_pairwise_count_with_ties() -> None:
    rng = np.random.default_rng(0)
    scores = rng.integers(0, 5, size=40).astype(float)  # many ties
    labels = rng.random(40) < 0.4
    pairs = list(itertools.product(scores[labels], scores[~labels]))
    brute = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p, n in pairs) / len(pairs)
    assert roc_auc(scores, labels) == pytest.approx(brute, abs=1e-12)
    with pytest.raises(InputError, match="both SAT and UNSAT"):
        roc_auc(scores, np.ones(40, dtype=bool))


def test_round_curves_take_unlabelled_one_class_and_labelled_problems(model) -> None:
    labelled = generate_sr(4, 4, 6, seed=0)
    curves = round_curves(model, labelled, 3)
    assert curves.accuracy is not None and curves.auc is not None and curves.decoded_of == "SAT formulas"
    unlabelled = [p.with_label(None) for p in labelled]
    plain = round_curves(model, unlabelled, 3)
    assert plain.accuracy is None and plain.auc is None and plain.decoded_of == "all formulas"
    np.testing.assert_array_equal(plain.predicted_sat, curves.predicted_sat)
    np.testing.assert_array_equal(plain.solved_sat, curves.solved_sat)
    unsat_only = [p for p in labelled if not p.is_sat]
    one_class = round_curves(model, unsat_only, 3)
    assert one_class.auc is None and one_class.accuracy is not None
    assert (one_class.decoded_by == 0).all()  # decoded assignments are verified: none for UNSAT
    assert ((curves.solved_round > 0) == curves.solved_sat).all()
    with pytest.raises(InputError, match=r"partly labelled"):
        round_curves(model, [labelled[0], unlabelled[1]], 2)
    with pytest.raises(InputError, match="rounds must be a positive integer"):
        round_curves(model, labelled, 0)


def test_solve_refuses_zero_rounds_and_reads_satlib_files(tmp_path, model) -> None:
    problem = make_problem(3, [(1, 2), (-1, 3)])
    with pytest.raises(InputError, match="rounds must be a positive integer"):
        solve(problem, model, rounds=0)
    satlib = tmp_path / "uf3-01.cnf"  # SATLIB's layout: comments, header, clauses, then "%" and "0"
    satlib.write_text("c SATLIB style\np cnf 3  2\n 1 2 0\n-1 3 0\n%\n0\n\n")
    answer = solve(satlib, model, rounds=4)
    assert answer is None or all(any(lit in answer for lit in c) for c in problem.clauses)
    assert read_dimacs(satlib).clauses == problem.clauses
    with pytest.raises(InputError, match="got a folder"):
        solve(tmp_path, model)
    bad_header = tmp_path / "bad.cnf"
    bad_header.write_text("p cnf 2 3\n1 2 0\n")
    with pytest.raises(InputError, match="clause count differs"):
        solve(bad_header, model)


def test_batch_solve_answers_like_one_at_a_time(model) -> None:
    problems = generate_sr(5, 3, 6, seed=3)
    batched = solve_many(model, problems, rounds=4)
    assert batched == [solve(p, model, rounds=4) for p in problems]


def test_plain_folders_sort_naturally_and_take_comment_or_csv_labels(tmp_path) -> None:
    folder = tmp_path / "set"
    names = ["f-10.cnf", "f-2.cnf", "f-1.cnf", "f-100.cnf"]
    for i, name in enumerate(names):
        write_dimacs(make_problem(i + 1, [(1,)]), folder / name)
    problems = load_problems(folder)
    assert [p.name for p in problems] == ["f-1", "f-2", "f-10", "f-100"]
    assert all(p.is_sat is None for p in problems)
    assert sorted(["a10", "a9", "a100"], key=natural_key) == ["a9", "a10", "a100"]

    csv = tmp_path / "labels.csv"
    csv.write_text("file,label\nf-1.cnf,sat\nf-2.cnf,unsat\nf-10.cnf,1\nf-100.cnf,0\n")
    assert [p.is_sat for p in load_problems(folder, labels=csv)] == [True, False, True, False]
    csv.write_text("file,label\nf-1.cnf,sat\n")
    with pytest.raises(
        InputError, match=r"partly labelled \(label every file or none\); offending item: .*f-2\.cnf"
    ):
        load_problems(folder, labels=csv)
    csv.write_text("file,label\nf-1.cnf,maybe\n")
    with pytest.raises(InputError, match=r"labels\.csv:2: 'maybe'"):
        load_problems(folder, labels=csv)
    csv.write_text("file,label\nnope.cnf,sat\n")
    with pytest.raises(InputError, match="not in the folder"):
        load_problems(folder, labels=csv)

    commented = tmp_path / "commented"
    write_dimacs(make_problem(1, [(1,)], is_sat=True), commented / "a.cnf")  # writes "c label sat"
    write_dimacs(make_problem(1, [(1,), (-1,)], is_sat=False), commented / "b.cnf")
    assert [p.is_sat for p in load_problems(commented)] == [True, False]
    with pytest.raises(InputError, match="got a file"):
        load_problems(commented / "a.cnf")
