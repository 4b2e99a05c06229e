"""Benchmark: our TD3 against Stable-Baselines3's TD3 on the same task, steps and hyper-parameters.

Both agents get the same network sizes (actor and critics ``--hidden``), one learning rate for actor
and critics, batch size, replay size, random warm-up steps, Gaussian exploration noise (sd 0.1 of the
action half-range; SB3 adds it in its [-1, 1]-scaled action space, which is the same thing), target
smoothing 0.2 clipped at 0.5, policy delay 2, one gradient step per environment step, the same seeds,
on one torch thread. Quality: the deterministic return over ``--eval-episodes`` episodes (mean and sd
over seeds). Speed: training environment steps per second (median over seeds) and the ratio ours / SB3.

A second table answers whether gymnasium's vector environments would speed TD3's collection: the
seconds per environment step of the bare environment (random actions), of a ``SyncVectorEnv`` of
``--vector-envs`` copies (per environment step), and of a whole TD3 step (act, store, one update),
from the same run; the environment's share of a TD3 step bounds what vectorising can save.

    uv run --group bench python tools/bench/hrl.py [--algorithm td3|sac|ppo] [--env Hopper-v5] [--steps 50000] [--seeds 0 1 2]

With ``--algorithm sac`` the peers are our SAC and SB3's SAC (automatic temperature both, one lr for
actor, critics and temperature, the same networks, batch, replay size, warm-up, tau 0.005).

With ``--algorithm ppo`` (default env CartPole-v1) the peers are our PPO and SB3's PPO with the same
``--n-envs`` copies of the env (our gymnasium SyncVectorEnv, SB3's DummyVecEnv), rollout length
``--n-steps``, minibatch, epochs, constant learning rate, gamma, ``--gae-lambda``, clip 0.2, separate
tanh policy and value MLPs of ``--hidden`` widths; the defaults are rl-zoo's CartPole-v1 settings
(without its learning-rate and clip schedules). Steps per second count all envs' steps.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

# this file is named like the package it benchmarks: keep its folder off the import path
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != Path(__file__).resolve().parent]

import gymnasium as gym  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from core.results import ResultTable, mean_sd  # noqa: E402
from core.timing import Timer, measure  # noqa: E402
from hrl import TD3, TD3Config, evaluate_policy  # noqa: E402
from hrl.agents.ppo import PPO  # noqa: E402
from hrl.agents.sac import SAC  # noqa: E402
from hrl.config import PPOConfig, SACConfig  # noqa: E402

PER_ALGORITHM = {
    "td3": {
        "env": "Pendulum-v1",
        "steps": 10_000,
        "hidden": [300, 300],
        "lr": 1e-3,
        "gamma": 0.98,
        "batch_size": 100,
    },
    "sac": {
        "env": "Pendulum-v1",
        "steps": 10_000,
        "hidden": [300, 300],
        "lr": 1e-3,
        "gamma": 0.98,
        "batch_size": 100,
    },
    "ppo": {
        "env": "CartPole-v1",
        "steps": 20_000,
        "hidden": [64, 64],
        "lr": 1e-3,
        "gamma": 0.98,
        "batch_size": 256,
    },
}
"""Defaults of the options left unset, per algorithm (PPO's: rl-zoo's CartPole-v1 settings)."""


def _train_ours_off_policy(agent_type, config_type, args: argparse.Namespace, seed: int, **extra):
    """Train our TD3 or SAC with the benchmark's shared options (and `extra` config fields)."""
    config = config_type(
        hidden=tuple(args.hidden),
        actor_lr=args.lr,
        critic_lr=args.lr,
        gamma=args.gamma,
        batch_size=args.batch_size,
        buffer_size=args.steps,
        learning_starts=args.learning_starts,
        total_timesteps=args.steps,
        seed=seed,
        **extra,
    )
    agent = agent_type(gym.make(args.env), config)
    with Timer() as timer:
        agent.learn()
    return agent, timer.seconds


def train_ours(args: argparse.Namespace, seed: int):
    return _train_ours_off_policy(TD3, TD3Config, args, seed)


def train_sb3(args: argparse.Namespace, seed: int):
    from stable_baselines3 import TD3 as SB3TD3
    from stable_baselines3.common.noise import NormalActionNoise

    env = gym.make(args.env)
    width = env.action_space.shape[0]
    agent = SB3TD3(
        "MlpPolicy",
        env,
        learning_rate=args.lr,
        buffer_size=args.steps,
        learning_starts=args.learning_starts,
        batch_size=args.batch_size,
        tau=0.005,
        gamma=args.gamma,
        train_freq=1,
        gradient_steps=1,
        action_noise=NormalActionNoise(np.zeros(width), 0.1 * np.ones(width)),
        policy_delay=2,
        target_policy_noise=0.2,
        target_noise_clip=0.5,
        policy_kwargs={"net_arch": list(args.hidden)},
        seed=seed,
        device="cpu",
        verbose=0,
    )
    with Timer() as timer:
        agent.learn(total_timesteps=args.steps)
    return agent, timer.seconds


def collection_split(args: argparse.Namespace, td3_seconds_per_step: float) -> ResultTable:
    """Seconds per environment step: bare env, a vector env, and a whole TD3 step (see the module doc)."""
    steps = min(args.steps, 5_000)
    env = gym.make(args.env)
    env.reset(seed=0)
    env.action_space.seed(0)
    actions = [env.action_space.sample() for _ in range(steps)]

    def single() -> None:
        for action in actions:
            *_, terminated, truncated, _ = env.step(action)
            if terminated or truncated:
                env.reset()

    vector = gym.vector.SyncVectorEnv([lambda: gym.make(args.env) for _ in range(args.vector_envs)])
    vector.reset(seed=0)
    batched = np.stack(
        [
            np.stack(actions[i : i + args.vector_envs])
            for i in range(0, steps - args.vector_envs + 1, args.vector_envs)
        ]
    )

    def vectorised() -> None:
        for action in batched:
            vector.step(action)

    single_s = measure(single, repeats=3).median / steps
    vector_s = measure(vectorised, repeats=3).median / (len(batched) * args.vector_envs)
    rows = [
        {"what": "environment step (one env, random actions)", "seconds_per_env_step": single_s},
        {"what": f"SyncVectorEnv of {args.vector_envs}, per env step", "seconds_per_env_step": vector_s},
        {
            "what": "hrl TD3 training step (act, store, one update)",
            "seconds_per_env_step": td3_seconds_per_step,
        },
    ]
    share = single_s / td3_seconds_per_step
    return ResultTable(
        f"td3_collection_split_{args.env}",
        rows,
        title=f"Where a TD3 step's time goes on {args.env}",
        notes=(
            f"the environment is {share:.1%} of a TD3 step at one update per environment step, so vector "
            f"environments can save at most that share; {steps} steps timed (median of 3)"
        ),
        data=f"gymnasium {args.env} (simulated)",
    )


def train_ours_sac(args: argparse.Namespace, seed: int):
    return _train_ours_off_policy(SAC, SACConfig, args, seed, alpha_lr=args.lr)


def train_sb3_sac(args: argparse.Namespace, seed: int):
    from stable_baselines3 import SAC as SB3SAC

    agent = SB3SAC(
        "MlpPolicy",
        gym.make(args.env),
        learning_rate=args.lr,
        buffer_size=args.steps,
        learning_starts=args.learning_starts,
        batch_size=args.batch_size,
        tau=0.005,
        gamma=args.gamma,
        train_freq=1,
        gradient_steps=1,
        ent_coef="auto",
        policy_kwargs={"net_arch": list(args.hidden)},
        seed=seed,
        device="cpu",
        verbose=0,
    )
    with Timer() as timer:
        agent.learn(total_timesteps=args.steps)
    return agent, timer.seconds


def train_ours_ppo(args: argparse.Namespace, seed: int):
    config = PPOConfig(
        hidden=tuple(args.hidden),
        n_envs=args.n_envs,
        n_steps=args.n_steps,
        batch_size=args.batch_size,
        n_epochs=args.n_epochs,
        learning_rate=args.lr,
        gamma=args.gamma,
        gae_lambda=args.gae_lambda,
        total_timesteps=args.steps,
        seed=seed,
    )
    agent = PPO(args.env, config)
    with Timer() as timer:
        agent.learn()
    return agent, timer.seconds


def train_sb3_ppo(args: argparse.Namespace, seed: int):
    from stable_baselines3 import PPO as SB3PPO
    from stable_baselines3.common.env_util import make_vec_env

    agent = SB3PPO(
        "MlpPolicy",
        make_vec_env(args.env, n_envs=args.n_envs, seed=seed),
        learning_rate=args.lr,
        n_steps=args.n_steps,
        batch_size=args.batch_size,
        n_epochs=args.n_epochs,
        gamma=args.gamma,
        gae_lambda=args.gae_lambda,
        clip_range=0.2,
        policy_kwargs={"net_arch": list(args.hidden)},
        seed=seed,
        device="cpu",
        verbose=0,
    )
    with Timer() as timer:
        agent.learn(total_timesteps=args.steps)
    return agent, timer.seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--algorithm", choices=("td3", "sac", "ppo"), default="td3")
    parser.add_argument("--env", help="default: Pendulum-v1 (td3, sac), CartPole-v1 (ppo)")
    parser.add_argument("--steps", type=int, help="default: 10000 (td3, sac), 20000 (ppo)")
    parser.add_argument("--learning-starts", type=int, default=1_000)
    parser.add_argument("--hidden", type=int, nargs="+", help="default: 300 300 (td3, sac), 64 64 (ppo)")
    parser.add_argument("--lr", type=float, help="default: 1e-3")
    parser.add_argument("--gamma", type=float, help="default: 0.98")
    parser.add_argument("--batch-size", type=int, help="default: 100 (td3, sac), 256 (ppo)")
    parser.add_argument("--n-envs", type=int, default=8, help="ppo only (default: 8)")
    parser.add_argument("--n-steps", type=int, default=32, help="ppo only (default: 32)")
    parser.add_argument("--n-epochs", type=int, default=20, help="ppo only (default: 20)")
    parser.add_argument("--gae-lambda", type=float, default=0.8, help="ppo only (default: 0.8)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--eval-episodes", type=int, default=10)
    parser.add_argument("--vector-envs", type=int, default=4)
    parser.add_argument("--out", type=Path, default=Path("runs/bench"))
    args = parser.parse_args(argv)
    for name, value in PER_ALGORITHM[args.algorithm].items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    torch.set_num_threads(1)
    results: dict[str, dict[str, list[float]]] = {}
    kind = args.algorithm.upper()
    peers = {
        "td3": (train_ours, train_sb3),
        "sac": (train_ours_sac, train_sb3_sac),
        "ppo": (train_ours_ppo, train_sb3_ppo),
    }[args.algorithm]
    for name, train in ((f"hrl {kind}", peers[0]), (f"Stable-Baselines3 {kind}", peers[1])):
        rows = results.setdefault(name, {"return": [], "steps_per_second": []})
        for seed in args.seeds:
            agent, seconds = train(args, seed)
            returns = evaluate_policy(agent, gym.make(args.env), args.eval_episodes, seed=10_000 + seed)
            rows["return"].append(float(returns.mean()))
            rows["steps_per_second"].append(agent.num_timesteps / seconds)
            print(
                f"{name} seed {seed}: return {returns.mean():.1f}, {agent.num_timesteps / seconds:.0f} steps/s",
                flush=True,
            )
    ours = statistics.median(results[f"hrl {kind}"]["steps_per_second"])
    table = ResultTable(
        f"{args.algorithm}_vs_sb3_{args.env}",
        [
            {
                "implementation": name,
                "return": mean_sd(rows["return"]),
                "steps_per_second": statistics.median(rows["steps_per_second"]),
                "speed_ratio_ours_over_this": ours / statistics.median(rows["steps_per_second"]),
            }
            for name, rows in results.items()
        ],
        title=f"{kind} on {args.env}: hrl vs Stable-Baselines3 at {args.steps} steps",
        notes=(
            f"seeds {args.seeds}; hidden {args.hidden}; lr {args.lr}; gamma {args.gamma}; batch {args.batch_size}; "
            + (
                f"{args.n_envs} envs x {args.n_steps} steps per rollout, {args.n_epochs} epochs, "
                f"GAE lambda {args.gae_lambda}, clip 0.2; "
                if args.algorithm == "ppo"
                else f"{args.learning_starts} random steps; "
            )
            + f"return: deterministic, {args.eval_episodes} episodes per seed; "
            "one torch thread; command: uv run --group bench python tools/bench/hrl.py "
            + " ".join(sys.argv[1:])
        ),
        data=f"gymnasium {args.env} (simulated)",
    )
    table.save(args.out)
    print(table.to_markdown())
    if args.algorithm == "td3":
        split = collection_split(args, 1.0 / ours)
        split.save(args.out)
        print(split.to_markdown())
    return 0


if __name__ == "__main__":
    sys.exit(main())
