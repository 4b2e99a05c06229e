"""The ``gradest`` command line: the workspace's CLI contract (validated options, defaults from the configs,
``--out`` a folder, one-line errors with exit code 2) and its commands."""

from __future__ import annotations

import json
import subprocess
import sys
from functools import partial

import pytest

from core.cli import config_from_args
from core.testing import exit_code, one_line_error
from gradest.cli import CHECKPOINT_NAME, build_parser, main
from gradest.config import ToyConfig, TrainConfig
from gradest.registry import ESTIMATORS

_exit_code = partial(exit_code, main)
_one_line_error = one_line_error


def test_estimators_lists_every_name(capsys):
    assert main(["estimators"]) == 0
    assert capsys.readouterr().out.split() == list(ESTIMATORS)


def test_help_and_import_never_import_torch_matplotlib_or_sklearn():
    code = (
        "import sys\n"
        "import gradest\n"
        "from gradest.cli import main\n"
        "for argv in (['--help'], ['estimators', '--help'], ['variance', '--help'], ['fit', '--help'],"
        " ['reproduce', '--help']):\n"
        "    try:\n"
        "        main(argv)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print(sorted(m for m in ('torch', 'matplotlib', 'sklearn') if m in sys.modules), file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip().splitlines()[-1] == "[]"


def test_cli_defaults_are_the_config_defaults():
    parser = build_parser()
    fit_args = parser.parse_args(["fit", "vae"])
    assert config_from_args(TrainConfig, fit_args, k=fit_args.k) == TrainConfig()
    assert fit_args.seed == TrainConfig().seed
    variance_args = parser.parse_args(["variance", "reinforce"])
    assert config_from_args(ToyConfig, variance_args) == ToyConfig()


def test_variance_prints_a_table_with_rb_below_reinforce(capsys):
    assert main(["variance", "reinforce", "rb-reinforce", "--repeats", "2000"]) == 0
    out = capsys.readouterr().out
    rows = {
        line.split("|")[1].strip(): float(line.split("|")[2])
        for line in out.splitlines()
        if line.startswith("| r")
    }
    assert rows["rb-reinforce"] < rows["reinforce"]


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["variance", "reinforce", "--seed", "-1"], ["--seed", "-1"]),
        (["fit", "vae", "--seed", "-1"], ["--seed", "-1"]),
        (["reproduce", "--seed", "-1"], ["--seed", "-1"]),
        (["variance", "reinforced"], ["unknown estimator", "reinforced"]),
        (["variance", "reinforce", "--num-categories", "1"], ["num_categories"]),
        (["variance", "rb-gumbel-st"], ["k='auto'", "rb-gumbel-st"]),
        (["fit", "vae", "--estimator", "gumbel"], ["unknown estimator", "gumbel"]),
        (["fit", "vae", "--steps", "0"], ["steps", "0"]),
        (["fit", "vae", "--learning-rate", "-1"], ["learning_rate"]),
        (["fit", "vae", "--k", "two"], ["--k", "two"]),
        (["fit", "vae", "--device", "gpu"], ["--device", "gpu"]),
        (["reproduce", "--only", "nope"], ["nope", "toy"]),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(argv, words, tmp_path, capsys):
    out = ["--out", str(tmp_path)] if argv[0] in ("fit", "reproduce") else []
    assert _exit_code([*argv, *out]) == 2
    _one_line_error(capsys, *words)
    assert not any(tmp_path.iterdir())  # nothing half-written


def test_out_must_be_a_folder(tmp_path, capsys):
    a_file = tmp_path / "model.safetensors"
    a_file.write_text("")
    assert _exit_code(["fit", "vae", "--out", str(a_file)]) == 2
    _one_line_error(capsys, "--out must be a folder")


def test_reproduce_refuses_a_data_folder_it_would_not_read(tmp_path, capsys):
    assert (
        main(["reproduce", "--only", "toy", "--data", str(tmp_path / "missing"), "--out", str(tmp_path)]) == 2
    )
    _one_line_error(capsys, "--data does not apply")
    assert not (tmp_path / "gradest").exists()  # nothing half-written


def test_damaged_checkpoint_is_one_line_naming_the_file(tmp_path, capsys):
    (tmp_path / CHECKPOINT_NAME).write_bytes(b"not a checkpoint")
    assert main(["fit", "vae", "--steps", "2", "--out", str(tmp_path)]) == 2
    _one_line_error(capsys, CHECKPOINT_NAME)


def test_fit_runs_resumes_and_extends_in_its_out_folder(tmp_path, capsys):
    args = ["fit", "vae", "--steps", "4", "--eval-every", "2", "--batch-size", "8", "--out", str(tmp_path)]
    assert main(args) == 0
    assert "test_neg_elbo" in capsys.readouterr().out
    assert (tmp_path / CHECKPOINT_NAME).exists()
    first = json.loads((tmp_path / "fit_vae.json").read_text())
    assert main(args) == 0  # finished run: resumes at its last step and reports the same history
    again = json.loads((tmp_path / "fit_vae.json").read_text())
    assert [row["test_neg_elbo"] for row in again["rows"]] == [row["test_neg_elbo"] for row in first["rows"]]
    assert main([*args, "--steps", "6"]) == 0  # steps is extendable
    extended = json.loads((tmp_path / "fit_vae.json").read_text())
    assert [row["step"] for row in extended["rows"]] == [0, 2, 4, 6]
    capsys.readouterr()
    assert main([*args, "--learning-rate", "0.1"]) == 2  # any other change is refused, naming the field
    _one_line_error(capsys, "learning_rate")
