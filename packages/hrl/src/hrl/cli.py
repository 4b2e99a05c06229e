"""``hrl`` command line: train an agent on a gymnasium environment, evaluate a saved agent.

Built on the workspace's CLI contract (`core.cli`): validated ``--seed``/``--device``/``--threads``,
``--out`` always a folder, option defaults read from the config dataclasses (`hrl.config`), every bad
input one line on stderr and exit code 2. Nothing here imports torch or gymnasium until a command runs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from core.cli import (
    add_config_arguments,
    add_device_option,
    add_out_option,
    add_seed_option,
    add_threads_option,
    config_from_args,
    dispatch,
    existing_file,
    package_cli,
    positive_int,
)
from core.reproduce import add_reproduce_command
from hrl.config import TD3Config

DESCRIPTION = (
    "Hierarchical and other reinforcement learning: TD3 with Stable-Baselines3's learn/predict/save/load "
    "shape (HIRO, exploration, model-based, continual and multi-agent methods are planned: see the README)."
)

CHECKPOINT_NAME = "td3.safetensors"
"""The file `hrl train td3` keeps in its ``--out`` folder (resumed from when present)."""


def make_env(env_id: str):
    """``gymnasium.make(env_id)`` with an unknown id turned into a one-line `InputError`."""
    import gymnasium as gym

    from core.errors import InputError

    try:
        return gym.make(env_id)
    except gym.error.Error as exc:
        raise InputError("unknown gymnasium environment", item=env_id, expected=str(exc)) from None


def _train_td3(args: argparse.Namespace) -> int:
    from core.device import pick_device
    from hrl.agents.td3 import TD3
    from hrl.evaluation import evaluate_policy

    config = config_from_args(TD3Config, args, seed=args.seed)
    env = make_env(args.env)
    agent = TD3(env, config, device=pick_device(args.device))
    path = Path(args.out) / CHECKPOINT_NAME
    agent.learn(checkpoint=path, checkpoint_every=args.checkpoint_every, progress_bar=True)
    returns = evaluate_policy(agent, make_env(args.env), args.eval_episodes, seed=args.seed + 10_000)
    print(
        f"{args.env}: {agent.num_timesteps} steps, {agent.num_episodes} episodes; "
        f"deterministic return over {args.eval_episodes} episodes {returns.mean():.1f} ± {returns.std(ddof=0):.1f}; "
        f"saved {path}"
    )
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from core.device import pick_device
    from hrl.agents.td3 import TD3
    from hrl.evaluation import evaluate_policy

    env = make_env(args.env)
    agent = TD3.load(args.checkpoint, env, device=pick_device(args.device))
    returns = evaluate_policy(agent, env, args.episodes, seed=args.seed)
    print(
        f"{args.env}: return over {args.episodes} episodes {returns.mean():.1f} ± {returns.std(ddof=0):.1f}"
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The ``hrl`` parser with its sub-commands."""
    parser, commands = package_cli("hrl", DESCRIPTION)
    train = commands.add_parser("train", help="train an agent on a gymnasium environment")
    algorithms = train.add_subparsers(dest="algorithm", metavar="ALGORITHM", required=True)
    td3 = algorithms.add_parser(
        "td3",
        help="TD3 (Fujimoto et al. 2018); resumes from --out/td3.safetensors when present",
        description="Train TD3; the run resumes from --out/td3.safetensors when that file exists "
        "(only --total-timesteps may differ from the saved run).",
    )
    td3.add_argument(
        "--env", default="Pendulum-v1", help="gymnasium id with Box spaces (default: Pendulum-v1)"
    )
    add_config_arguments(td3, TD3Config, exclude=("seed",))
    td3.add_argument(
        "--checkpoint-every",
        type=positive_int,
        default=10_000,
        help="steps between checkpoints (default: 10000)",
    )
    td3.add_argument(
        "--eval-episodes",
        type=positive_int,
        default=10,
        help="deterministic episodes at the end (default: 10)",
    )
    add_seed_option(td3)
    add_device_option(td3, default="cpu")
    add_threads_option(td3)
    add_out_option(td3, what="the checkpoint")
    td3.set_defaults(handler=_train_td3)

    evaluate = commands.add_parser("evaluate", help="deterministic returns of a saved TD3 agent")
    evaluate.add_argument("checkpoint", type=existing_file, help="a checkpoint written by `hrl train td3`")
    evaluate.add_argument("--env", default="Pendulum-v1", help="gymnasium id (default: Pendulum-v1)")
    evaluate.add_argument("--episodes", type=positive_int, default=10, help="episodes (default: 10)")
    add_seed_option(evaluate)
    add_device_option(evaluate, default="cpu")
    add_threads_option(evaluate)
    evaluate.set_defaults(handler=_evaluate)
    add_reproduce_command(commands, "hrl")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    return dispatch(build_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
