"""DIMACS reading/writing and PySAT conversion: round trips and clear errors on bad input."""

from __future__ import annotations

import itertools

import pytest
from pysat.formula import CNF

from core.errors import InputError
from neurosat.cnf import evaluate, make_problem, parse_dimacs, problem_from_cnf, read_dimacs, write_dimacs
from neurosat.dataset import load_problems, save_problems

GOOD = """c a comment
p cnf 3 2
1 -3 0
2 3
-1 0
"""


def test_parse_dimacs_reads_clauses_spread_over_lines() -> None:
    problem = parse_dimacs(GOOD)
    assert problem.n_vars == 3
    assert problem.clauses == ((1, -3), (2, 3, -1))


def test_dimacs_and_pysat_round_trip(tmp_path) -> None:
    problem = make_problem(4, [(1, -2), (3, 4, -1), (-4,)], is_sat=True, name="x")
    path = write_dimacs(problem, tmp_path / "x.cnf")
    again = read_dimacs(path)
    assert again.clauses == problem.clauses and again.n_vars == 4 and again.is_sat is True
    # PySAT reads the file we wrote, and our converter reads PySAT's object back.
    cnf = CNF(from_file=str(path))
    assert [tuple(c) for c in cnf.clauses] == list(problem.clauses)
    assert problem_from_cnf(cnf).clauses == problem.clauses
    assert problem.to_cnf().clauses == [list(c) for c in problem.clauses]


def test_dataset_folder_round_trip(tmp_path) -> None:
    problems = [
        make_problem(2, [(1, 2)], is_sat=True, name="a"),
        make_problem(1, [(1,), (-1,)], is_sat=False),
    ]
    save_problems(problems, tmp_path / "set")
    assert load_problems(tmp_path / "set") == problems


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("1 2 0\n", "clause before the 'p cnf' header"),
        ("p cnf 2\n1 0\n", "malformed header"),
        ("p cnf 2 1\n1 x 0\n", "<string>:2:3: 'x'"),
        ("p cnf 2 1\n1 3 0\n", "<string>:2:3: 3"),
        ("p cnf 2 2\n1 0\n0\n", "empty clause; offending item: <string>:3:1"),
        ("p cnf 2 1\n1 2\n", "not terminated by 0"),
        ("p cnf 2 2\n1 2 0\n", "clause count differs"),
        ("c only a comment\n", "no 'p cnf' header"),
        ("p cnf 2 1\np cnf 2 1\n1 0\n", "second 'p cnf' header"),
    ],
)
def test_bad_dimacs_errors_name_line_and_column(text: str, fragment: str) -> None:
    with pytest.raises(InputError, match=None) as info:
        parse_dimacs(text)
    assert fragment in str(info.value)


def test_bad_clauses_and_missing_files_are_named(tmp_path) -> None:
    with pytest.raises(InputError, match="clause 1: literal 5"):
        make_problem(3, [(1,), (5,)])
    with pytest.raises(InputError, match="clause 0"):
        make_problem(3, [()])
    with pytest.raises(InputError, match="not found"):
        read_dimacs(tmp_path / "missing.cnf")
    with pytest.raises(InputError, match="CNF"):
        problem_from_cnf([[1, 2]])  # type: ignore[arg-type]
    with pytest.raises(InputError, match="neither an index nor"):
        load_problems(tmp_path)


def test_failed_save_leaves_nothing_half_written(tmp_path) -> None:
    class Broken:
        name, is_sat, n_vars, n_clauses = "b", None, 1, 1

        @property
        def clauses(self):
            raise RuntimeError("disk full")

    good = make_problem(2, [(1, 2)], is_sat=True)
    with pytest.raises(RuntimeError, match="disk full"):
        save_problems([good, good, Broken()], tmp_path / "set")  # type: ignore[list-item]
    assert list((tmp_path / "set").iterdir()) == []


def test_evaluate_matches_brute_force_truth_table() -> None:
    problem = make_problem(3, [(1, -2), (2, 3), (-1, -3)])
    for values in itertools.product([False, True], repeat=3):
        model = [(i + 1) if v else -(i + 1) for i, v in enumerate(values)]
        a, b, c = values
        expected = (a or not b) and (b or c) and (not a or not c)
        assert evaluate(problem, model) == expected


def test_public_api_names_resolve_to_what_all_promises() -> None:
    import neurosat

    assert callable(neurosat.evaluate) and neurosat.evaluate is evaluate
    assert all(hasattr(neurosat, name) for name in neurosat.__all__)
