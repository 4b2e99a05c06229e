"""The `neurosat` command line end to end on tiny inputs, and its error on a malformed file."""

from __future__ import annotations

from neurosat.cli import main
from neurosat.dataset import load_problems


def test_generate_fit_evaluate_solve(tmp_path, capsys) -> None:
    data = tmp_path / "data"
    assert main(["generate", "--pairs", "4", "--min-vars", "3", "--max-vars", "5", "--out", str(data)]) == 0
    problems = load_problems(data)
    assert len(problems) == 8 and [p.is_sat for p in problems[:2]] == [True, False]
    model = tmp_path / "m.safetensors"
    args = [
        "fit",
        str(data),
        "--out",
        str(model),
        "--d",
        "8",
        "--rounds",
        "2",
        "--epochs",
        "1",
        "--device",
        "cpu",
    ]
    assert main(args) == 0
    assert main(["evaluate", str(model), str(data), "--device", "cpu"]) == 0
    assert "accuracy" in capsys.readouterr().out
    code = main(["solve", str(model), str(data / "000000.cnf"), "--rounds", "3"])
    out = capsys.readouterr().out
    assert (code, out.splitlines()[0]) in {(10, "s SATISFIABLE"), (20, "s UNKNOWN")}


def test_solve_reports_malformed_dimacs_with_its_line(tmp_path, capsys) -> None:
    bad = tmp_path / "bad.cnf"
    bad.write_text("p cnf 2 1\n1 -7 0\n")
    model = tmp_path / "m.safetensors"
    from neurosat.model import NeuroSAT, NeuroSATConfig

    NeuroSAT(NeuroSATConfig(d=4, rounds=1)).save(model)
    assert main(["solve", str(model), str(bad)]) == 2
    assert "bad.cnf:2:3: -7" in capsys.readouterr().err
