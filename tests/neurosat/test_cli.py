"""The `neurosat` command line: end to end on tiny inputs, the CLI contract, exit codes, light imports."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch

from neurosat.cli import EXIT_SAT, EXIT_UNKNOWN, main
from neurosat.cnf import make_problem, write_dimacs
from neurosat.dataset import load_problems
from neurosat.model import NeuroSAT, NeuroSATConfig


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "m.safetensors"
    NeuroSAT(NeuroSATConfig(d=8, rounds=2, mlp_layers=1), generator=torch.Generator().manual_seed(0)).save(
        path
    )
    return path


def test_generate_fit_evaluate_solve(tmp_path, capsys) -> None:
    data = tmp_path / "data"
    assert main(["generate", "--pairs", "4", "--min-vars", "3", "--max-vars", "5", "--out", str(data)]) == 0
    problems = load_problems(data)
    assert len(problems) == 8 and [p.is_sat for p in problems[:2]] == [True, False]
    run = tmp_path / "run"
    fit = [
        "fit",
        str(data),
        "--out",
        str(run),
        "--d",
        "8",
        "--rounds",
        "2",
        "--epochs",
        "1",
        "--device",
        "cpu",
    ]
    assert main(fit) == 0
    assert {p.name for p in run.iterdir()} >= {"model.safetensors", "checkpoint.safetensors", "history.json"}
    assert len(json.loads((run / "history.json").read_text())["loss"]) == 1
    capsys.readouterr()
    assert main(["evaluate", str(run / "model.safetensors"), str(data), "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert "4 SAT / 4 UNSAT" in out and "accuracy" in out and "AUC" in out
    # A training checkpoint is a model file too.
    assert main(["evaluate", str(run / "checkpoint.safetensors"), str(data), "--device", "cpu"]) == 0
    # Same settings but another learning rate: refused by the resume rule, one line, exit 2.
    assert main([*fit, "--learning-rate", "0.5"]) == 2
    assert "train.learning_rate" in capsys.readouterr().err


def test_solve_exit_codes_follow_the_sat_competition(tmp_path, model_file, capsys) -> None:
    sat = write_dimacs(make_problem(1, [(1,)]), tmp_path / "sat.cnf")  # both maps are tried: always found
    unsat = write_dimacs(make_problem(1, [(1,), (-1,)]), tmp_path / "unsat.cnf")
    assert main(["solve", str(model_file), str(sat)]) == EXIT_SAT == 10
    assert capsys.readouterr().out.splitlines()[0] == "s SATISFIABLE"
    assert main(["solve", str(model_file), str(unsat), "--rounds", "3"]) == EXIT_UNKNOWN == 0
    assert capsys.readouterr().out == "s UNKNOWN\n"


def test_batch_solve_writes_one_result_per_file(tmp_path, model_file, capsys) -> None:
    folder = tmp_path / "cnfs"
    write_dimacs(make_problem(1, [(1,)]), folder / "f-10.cnf")
    write_dimacs(make_problem(1, [(1,), (-1,)]), folder / "f-2.cnf")
    out = tmp_path / "sols"
    assert main(["solve", str(model_file), str(folder), "--out", str(out)]) == 0
    assert "1 of 2 decoded" in capsys.readouterr().out
    assert (out / "f-10.sol").read_text().splitlines()[1:] == ["s SATISFIABLE", "v 1 0"]
    assert (out / "f-2.sol").read_text().splitlines()[1:] == ["s UNKNOWN"]


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["generate", "--pairs", "2", "--seed", "-1"], "must be >= 0"),
        (["generate", "--pairs", "2", "--seed", "x"], "not an integer"),
        (["solve", "{model}", "{tmp}/missing.cnf"], "not found"),
        (["solve", "{tmp}/missing.safetensors", "{tmp}/missing.cnf"], "file not found"),
        (["evaluate", "{model}", "{tmp}/nowhere"], "folder not found"),
        (["evaluate", "{model}", "{model}"], "is a file, expected a folder"),
        (["solve", "{tmp}", "{tmp}"], "is a folder, expected a file"),
        (["solve", "{model}", "{model}", "--rounds", "0"], "must be >= 1"),
        (["solve", "{model}", "{model}", "--device", "tpu"], "unknown device"),
        (["fit", "{tmp}", "--out", "{model}"], "--out must be a folder"),
        (["evaluate", "{model}", "{tmp}"], "neither an index nor .cnf files"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path, model_file, capsys, args, fragment) -> None:
    filled = [a.format(model=model_file, tmp=tmp_path) for a in args]
    with pytest.raises(SystemExit) as info:
        code = main(filled)
        raise SystemExit(code)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert fragment in err and len(err.strip().splitlines()) == 1, err


def test_solve_reports_malformed_dimacs_with_its_line(tmp_path, model_file, capsys) -> None:
    bad = tmp_path / "bad.cnf"
    bad.write_text("p cnf 2 1\n1 -7 0\n")
    assert main(["solve", str(model_file), str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.cnf:2:3: -7" in err and len(err.strip().splitlines()) == 1


def test_help_and_import_never_load_torch_pysat_or_matplotlib() -> None:
    code = (
        "import sys, contextlib, io\n"
        "import neurosat\n"
        "from neurosat.cli import main\n"
        "for args in (['--help'], ['generate', '--help'], ['fit', '--help'], ['evaluate', '--help'],"
        " ['solve', '--help'], ['reproduce', '--help']):\n"
        "    with contextlib.redirect_stdout(io.StringIO()):\n"
        "        try:\n"
        "            main(args)\n"
        "        except SystemExit:\n"
        "            pass\n"
        "print(sorted(m for m in ('torch', 'pysat', 'matplotlib', 'numpy') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]", result.stdout + result.stderr
