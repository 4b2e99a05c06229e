import json
import subprocess
import sys
from importlib.metadata import EntryPoint

import pytest

import core.reproduce as reproduce_module
from core import InputError, ResultTable, RunOptions
from core.cli import dispatch, package_cli
from core.reproduce import add_reproduce_command, main, run_experiment

SEEN: list[RunOptions] = []


def fake_experiment(options: RunOptions) -> list[ResultTable]:
    """Registered under a test entry point: records its options and returns one measured table."""
    SEEN.append(options)
    import torch

    return [ResultTable("draws", rows=[{"first_draw": float(torch.rand(1))}])]


@pytest.fixture
def registered(monkeypatch):
    entry = EntryPoint(name="fakepkg", value=f"{__name__}:fake_experiment", group="core.reproduce")
    monkeypatch.setattr(reproduce_module, "registered_experiments", lambda: {"fakepkg": entry})
    SEEN.clear()
    return entry


def test_unknown_package_exits_non_zero_listing_known_ones(registered, capsys):
    assert main(["nosuchpkg"]) == 2
    err = capsys.readouterr().err
    assert "unknown package 'nosuchpkg'" in err and "fakepkg" in err


def test_unknown_package_from_the_installed_command_exits_non_zero():
    done = subprocess.run(
        [sys.executable, "-m", "core.reproduce", "nosuchpkg"], capture_output=True, text=True
    )
    assert (
        done.returncode != 0 and "unknown package 'nosuchpkg'" in done.stderr and "registered:" in done.stderr
    )


def test_list_prints_registered_names(registered, capsys):
    assert main(["--list"]) == 0
    assert capsys.readouterr().out.split() == ["fakepkg"]


def test_run_is_seeded_and_writes_tables_under_out_package(registered, tmp_path, capsys):
    assert main(["fakepkg", "--seed", "5", "--out", str(tmp_path), "--scale", "smoke"]) == 0
    first = json.loads((tmp_path / "fakepkg" / "draws.json").read_text())["rows"][0]["first_draw"]
    assert SEEN[-1] == RunOptions(scale="smoke", seed=5, out=tmp_path / "fakepkg", device="auto")
    assert "| first_draw |" in capsys.readouterr().out
    again = run_experiment("fakepkg", RunOptions(seed=5, out=tmp_path / "again"))
    assert again[0].rows[0]["first_draw"] == first


def test_bad_scale_and_seed_are_rejected_by_the_parser(registered, capsys):
    for argv in (["fakepkg", "--scale", "huge"], ["fakepkg", "--seed", "-3"]):
        with pytest.raises(SystemExit) as stop:
            main(argv)
        assert stop.value.code == 2


def test_package_cli_runs_handlers_and_turns_input_errors_into_exit_2(registered, tmp_path, capsys):
    parser, commands = package_cli("core", "test cli")
    add_reproduce_command(commands, "fakepkg")
    broken = commands.add_parser("broken")
    broken.set_defaults(handler=lambda args: (_ for _ in ()).throw(InputError("bad file", item="x.csv:3")))
    assert dispatch(parser, ["reproduce", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "fakepkg" / "draws.json").is_file()
    assert dispatch(parser, ["broken"]) == 2
    assert "bad file; offending item: x.csv:3" in capsys.readouterr().err
    assert dispatch(parser, []) == 0


def test_positive_int_accepts_counts_and_rejects_zero_and_words():
    import argparse

    from core.cli import positive_int

    assert positive_int("3") == 3
    for bad, message in (("0", "must be >= 1, got 0"), ("-2", "must be >= 1"), ("many", "not an integer")):
        with pytest.raises(argparse.ArgumentTypeError, match=message):
            positive_int(bad)
