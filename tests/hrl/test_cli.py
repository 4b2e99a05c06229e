"""The ``hrl`` command line: the workspace's CLI contract (torch-free help, defaults from the configs,
one-line errors with exit code 2) and a tiny train -> resume -> evaluate round trip."""

from __future__ import annotations

import subprocess
import sys
from functools import partial

from core.cli import config_from_args
from core.testing import exit_code, one_line_error
from hrl.cli import CHECKPOINT_NAME, build_parser, main
from hrl.config import DIAYNConfig, HIROConfig, MAXConfig, SACConfig, TD3Config

_exit_code = partial(exit_code, main)
_one_line_error = one_line_error


def test_import_and_every_help_load_no_torch_gymnasium_or_mujoco():
    code = (
        "import sys\n"
        "import hrl, hrl.agents\n"
        "from hrl.cli import main\n"
        "for argv in (['--help'], ['train', '--help'], ['train', 'td3', '--help'], ['train', 'hiro', '--help'], ['train', 'sac', '--help'], ['train', 'diayn', '--help'],"
        " ['evaluate', '--help'], ['explore', '--help'], ['reproduce', '--help']):\n"
        "    try:\n"
        "        main(argv)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print(sorted(m for m in ('torch', 'gymnasium', 'mujoco', 'matplotlib') if m in sys.modules),"
        " file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip().splitlines()[-1] == "[]"


def test_cli_defaults_are_the_config_defaults():
    args = build_parser().parse_args(["train", "td3"])
    assert config_from_args(TD3Config, args, seed=args.seed) == TD3Config()
    args = build_parser().parse_args(["train", "hiro"])
    assert config_from_args(HIROConfig, args, seed=args.seed) == HIROConfig()
    for name, config_type in (("sac", SACConfig), ("diayn", DIAYNConfig)):
        args = build_parser().parse_args(["train", name])
        assert config_from_args(config_type, args, seed=args.seed) == config_type()
    args = build_parser().parse_args(["explore"])
    assert (
        config_from_args(MAXConfig, args, seed=args.seed, total_timesteps=MAXConfig().total_timesteps)
        == MAXConfig()
    )
    args = build_parser().parse_args(["train", "hiro", "--goal-low", "-1", "-2", "--no-correction"])
    assert config_from_args(HIROConfig, args, seed=0) == HIROConfig(goal_low=(-1.0, -2.0), correction=False)


def test_bad_options_end_in_one_line_and_exit_2(tmp_path, capsys):
    assert _exit_code(["train", "td3", "--seed", "-1"]) == 2
    _one_line_error(capsys, "--seed")
    assert _exit_code(["train", "td3", "--device", "tpu"]) == 2
    _one_line_error(capsys, "--device")
    (tmp_path / "file").write_text("x")
    assert _exit_code(["train", "td3", "--out", str(tmp_path / "file")]) == 2
    _one_line_error(capsys, "--out")
    assert _exit_code(["train", "td3", "--gamma", "2", "--out", str(tmp_path / "run")]) == 2
    _one_line_error(capsys, "TD3Config.gamma")
    assert _exit_code(["train", "td3", "--env", "NoSuchEnv-v0", "--out", str(tmp_path / "run")]) == 2
    _one_line_error(capsys, "NoSuchEnv-v0")
    assert _exit_code(["train", "td3", "--env", "CartPole-v1", "--out", str(tmp_path / "run")]) == 2
    _one_line_error(capsys, "Box")
    assert _exit_code(["evaluate", str(tmp_path / "missing.safetensors")]) == 2
    _one_line_error(capsys, "missing.safetensors")
    assert not (tmp_path / "run").exists()  # nothing half-written


def test_train_resumes_from_its_folder_and_evaluate_reads_the_checkpoint(tmp_path, capsys):
    out = tmp_path / "run"
    argv = ["train", "td3", "--hidden", "8", "--learning-starts", "50", "--batch-size", "16"]
    argv += ["--eval-episodes", "1", "--out", str(out)]
    assert main([*argv, "--total-timesteps", "200"]) == 0
    assert "200 steps, 1 episodes" in capsys.readouterr().out
    assert main([*argv, "--total-timesteps", "400"]) == 0  # extends the saved run
    assert "400 steps, 2 episodes" in capsys.readouterr().out
    assert _exit_code([*argv, "--total-timesteps", "400", "--tau", "0.5"]) == 2  # not a run-length field
    _one_line_error(capsys, "tau")
    assert main(["evaluate", str(out / CHECKPOINT_NAME), "--episodes", "1"]) == 0
    assert "return over 1 episodes" in capsys.readouterr().out


def test_train_hiro_and_evaluate_it(tmp_path, capsys):
    out = tmp_path / "hiro"
    argv = [
        "train",
        "hiro",
        "--env",
        "Pendulum-v1",
        "--hidden",
        "8",
        "--learning-starts",
        "50",
        "--batch-size",
        "16",
    ]
    assert main([*argv, "--total-timesteps", "200", "--eval-episodes", "1", "--out", str(out)]) == 0
    assert "200 steps, 1 episodes" in capsys.readouterr().out
    assert main(["evaluate", str(out / "hiro.safetensors"), "--algorithm", "hiro", "--episodes", "1"]) == 0
    assert "return over 1 episodes" in capsys.readouterr().out
    assert _exit_code([*argv, "--goal-low", "1", "1", "--goal-high", "0", "0", "--out", str(out)]) == 2
    _one_line_error(capsys, "min >= max")


def test_explore_runs_resumes_and_refuses_bad_methods_in_one_line(tmp_path, capsys):
    out = tmp_path / "chain"
    assert _exit_code(["explore", "--chain-length", "6", "--episodes", "2", "--out", str(out)]) == 0
    assert "states visited" in capsys.readouterr().out and (out / "explore.safetensors").exists()
    assert (
        _exit_code(["explore", "--chain-length", "6", "--episodes", "3", "--out", str(out)]) == 0
    )  # extends
    assert "3 episodes" in capsys.readouterr().out
    assert _exit_code(["explore", "--method", "icm", "--out", str(tmp_path / "bad")]) == 2
    _one_line_error(capsys, "MAXConfig.method")
