"""The CLI contract of core.cli and reproduce: validated shared options, config-derived defaults,
sub-experiments, tables written as computed, one-line errors with exit code 2."""

import argparse
import json
from dataclasses import dataclass
from importlib.metadata import EntryPoint
from typing import Literal

import pytest

import core.reproduce as reproduce_module
from core import InputError, ResultTable, RunOptions, extendable
from core.cli import (
    add_config_arguments,
    add_run_options,
    config_from_args,
    dispatch,
    package_cli,
    seed_value,
)
from core.reproduce import main


def first(options: RunOptions):
    options.publish(ResultTable("first", rows=[{"a": 1}]))
    return [ResultTable("first"), ResultTable("second", rows=[{"b": 2}])]


def crashing(options: RunOptions):
    options.publish(ResultTable("kept", rows=[{"a": 1}]))
    raise RuntimeError("late crash")


def missing_data(options: RunOptions):
    raise InputError("study alignments not found", item="DS1.nex", expected="phylo-marglik data fetch")


EXPERIMENTS = {"first": first, "crashing": crashing, "missing": missing_data}


@pytest.fixture
def registered(monkeypatch):
    entries = {
        "multi": EntryPoint(name="multi", value=f"{__name__}:EXPERIMENTS", group="core.reproduce"),
        "single": EntryPoint(name="single", value=f"{__name__}:missing_data", group="core.reproduce"),
    }
    monkeypatch.setattr(reproduce_module, "registered_experiments", lambda: entries)


def test_only_runs_one_sub_experiment_and_its_tables_carry_provenance(registered, tmp_path, capsys):
    assert main(["multi", "--only", "first", "--seed", "9", "--out", str(tmp_path)]) == 0
    folder = tmp_path / "multi"
    assert sorted(p.name for p in folder.glob("*.json")) == ["first.json", "second.json"]
    record = json.loads((folder / "first.json").read_text())["provenance"]
    assert (
        record["seed"] == 9
        and record["command"][:2] == ["reproduce", "multi"]
        and record["package"] == "multi"
    )
    assert json.loads((folder / "first.json").read_text())["rows"] == [
        {"a": 1}
    ]  # the published table, not overwritten


def test_a_late_crash_keeps_every_table_already_published(registered, tmp_path):
    with pytest.raises(RuntimeError, match="late crash"):
        main(["multi", "--only", "crashing", "--out", str(tmp_path)])
    assert (tmp_path / "multi" / "kept.json").is_file()


def test_missing_data_is_one_line_exit_2_and_no_empty_folder(registered, tmp_path, capsys):
    assert main(["single", "--out", str(tmp_path / "new" / "runs")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "study alignments not found" in err[0] and "phylo-marglik data fetch" in err[0]
    assert not (tmp_path / "new").exists()


def test_unknown_sub_experiment_and_only_on_a_single_experiment_are_refused(registered, tmp_path, capsys):
    assert main(["multi", "--only", "nope", "--out", str(tmp_path)]) == 2
    assert "no sub-experiment 'nope'" in capsys.readouterr().err
    assert main(["single", "--only", "x", "--out", str(tmp_path)]) == 2
    assert "single experiment" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--seed", "-1"], "must be >= 0"),
        (["--seed", "x"], "not an integer"),
        (["--device", "gpu7"], "unknown device"),
        (["--threads", "0"], "must be >= 1"),
        (["--scale", "huge"], "invalid choice"),
    ],
)
def test_bad_shared_options_end_in_one_line_and_exit_2(argv, message, capsys):
    parser, commands = package_cli("core", "test")
    add_run_options(commands.add_parser("run"))
    with pytest.raises(SystemExit) as stop:
        parser.parse_args(["run", *argv])
    err = capsys.readouterr().err.strip().splitlines()
    assert stop.value.code == 2 and len(err) == 1 and message in err[0]


def test_out_is_always_a_folder(tmp_path, capsys):
    parser, commands = package_cli("core", "test")
    add_run_options(commands.add_parser("run"))
    afile = tmp_path / "model.pt"
    afile.write_text("x")
    with pytest.raises(SystemExit):
        parser.parse_args(["run", "--out", str(afile)])
    assert "must be a folder" in capsys.readouterr().err


def test_seed_range():
    assert seed_value("0") == 0 and seed_value(str(2**32 - 1)) == 2**32 - 1
    with pytest.raises(argparse.ArgumentTypeError, match="< 2\\*\\*32"):
        seed_value(str(2**32))


@dataclass(frozen=True)
class TrainConfig:
    learning_rate: float = 3e-4
    hidden: tuple[int, ...] = (300, 300)
    policy: Literal["mlp", "cnn"] = "mlp"
    clip: bool = True
    note: str | None = None
    epochs: int = extendable(10)
    seed: int = 0


def test_config_arguments_take_their_defaults_from_the_dataclass():
    parser = argparse.ArgumentParser()
    add_config_arguments(parser, TrainConfig)
    assert config_from_args(TrainConfig, parser.parse_args([])) == TrainConfig()
    args = parser.parse_args(
        ["--learning-rate", "0.1", "--hidden", "64", "--policy", "cnn", "--no-clip", "--epochs", "3"]
    )
    assert config_from_args(TrainConfig, args) == TrainConfig(0.1, (64,), "cnn", False, None, 3, 0)
    assert "(default: 300,300)" in parser.format_help()
    with pytest.raises(SystemExit):
        parser.parse_args(["--seed", "-1"])  # a config's seed is validated like --seed


def test_config_arguments_with_prefix_include_and_overrides():
    parser = argparse.ArgumentParser()
    add_config_arguments(parser, TrainConfig, include=["hidden"], prefix="critic-")
    args = parser.parse_args(["--critic-hidden", "8", "8"])
    assert config_from_args(TrainConfig, args, prefix="critic-", epochs=2) == TrainConfig(
        hidden=(8, 8), epochs=2
    )


def test_dispatch_applies_threads_and_maps_input_errors(capsys):
    import torch

    parser, commands = package_cli("core", "test")
    seen = []
    sub = commands.add_parser("go")
    add_run_options(sub)
    sub.set_defaults(handler=lambda args: seen.append(torch.get_num_threads()) or 0)
    bad = commands.add_parser("bad")
    bad.set_defaults(handler=lambda args: (_ for _ in ()).throw(InputError("bad row", item="x.csv:3")))
    before = torch.get_num_threads()
    assert dispatch(parser, ["go", "--threads", "1"]) == 0 and seen == [1]
    assert torch.get_num_threads() == before
    assert dispatch(parser, ["bad"]) == 2
    assert capsys.readouterr().err.strip() == "core: error: bad row; offending item: x.csv:3"
