"""The MB-MPO study (``reproduce hrl --only mb-mpo``, also part of ``--only model-based``): MB-MPO
(Clavera et al., CoRL 2018; `hrl.model_based.mbmpo`) against the single-model, model-exploiting
baseline (PPO in one learned model) and model-free PPO and TD3, learning curves against real
environment steps (deterministic return of each learner's policy on fixed evaluation episodes).

The paper's finding: MB-MPO reaches the asymptotic return of model-free learners with 10-100x less
real data, and beats learning in a single model; its numbers (HalfCheetah, Hopper, ... over 10^5 -
10^7 steps) are not in the issue or notes, so only the ratio is compared. Here we report, per
learner, the return at the model-based budget, the best return and the first real step count at
which the evaluation return reaches ``threshold``; the data ratio is the model-free learner's count
over MB-MPO's.

Budgets: `SMOKE` (Pendulum-v1, reward known, MB-MPO and the single model 3200 real steps, PPO 30 000,
TD3 10 000, 2 seeds; minutes, see the README for the measured time) and `FULL` (HalfCheetah-v5 and
Hopper-v5, the paper's tasks with their known rewards: MB-MPO 10^5 steps with the paper's 512-512
models, PPO 10^6, TD3 3 x 10^5, 3 seeds: not run; hours in the README).

Every finished run is written to ``<out>/mbmpo_runs/<task>_<learner>_<seed>.json`` with its
configuration, and a rerun of the study reuses a file whose configuration matches (a killed study
resumes at the last finished run).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from hrl.config import PPOConfig, TD3Config
from hrl.model_based.config import MBMPOConfig

__all__ = ["FULL", "LEARNERS", "SMOKE", "MBMPOStudy", "mb_mpo", "run_learner", "run_mbmpo_study"]

LEARNERS = ("mb-mpo", "me-ppo", "single-model", "ppo", "td3")
"""MB-MPO; its ensemble without the inner step (ME-PPO); one model, no inner step (model-exploiting);
model-free PPO and TD3."""


@dataclass(frozen=True)
class MBMPOStudy:
    """One study: ``learners`` on every task, ``seeds`` seeds from ``options.seed``."""

    tasks: tuple[str, ...] = ("Pendulum-v1",)
    learners: tuple[str, ...] = ("mb-mpo", "single-model", "ppo", "td3")
    seeds: int = 2
    model_steps: int = 3200
    ppo_steps: int = 30_000
    td3_steps: int = 10_000
    eval_every: int = 400
    eval_episodes: int = 5
    threshold: float = -200.0
    mbmpo: MBMPOConfig = field(
        default_factory=lambda: MBMPOConfig(
            model_hidden=(128, 128),
            model_epochs=20,
            meta_steps=20,
            rollouts=20,
            episodes_per_iter=2,
        )
    )
    ppo: PPOConfig = field(
        default_factory=lambda: PPOConfig(
            n_envs=4, n_steps=1024, gamma=0.9, gae_lambda=0.95, learning_rate=1e-3, n_epochs=10
        )
    )
    td3: TD3Config = field(
        default_factory=lambda: TD3Config(hidden=(64, 64), gamma=0.98, learning_starts=1000)
    )


SMOKE = MBMPOStudy()
"""Pendulum-v1 (known reward): MB-MPO with 5 models of 128-128, 20 meta steps per iteration of 2
real episodes, 20 imagined trajectories of 200 steps per model; the single-model baseline likewise;
PPO (rl-zoo's Pendulum settings without gSDE and normalisation) to 30 000 steps; TD3 (64-64, the
README's Pendulum settings) to 10 000; 2 seeds, 5 evaluation episodes every 400 real steps."""

FULL = MBMPOStudy(
    tasks=("HalfCheetah-v5", "Hopper-v5"),
    learners=LEARNERS,
    seeds=3,
    model_steps=100_000,
    ppo_steps=1_000_000,
    td3_steps=300_000,
    eval_every=5000,
    eval_episodes=10,
    threshold=1000.0,
    mbmpo=MBMPOConfig(),
    ppo=PPOConfig(),
    td3=TD3Config(hidden=(256, 256), learning_starts=10_000),
)
"""The paper's tasks with their known rewards (x position kept in the observation): MB-MPO with the
paper's 5 models of 512-512, 5 real episodes of 1000 steps per iteration, 30 meta steps of 20
imagined 200-step trajectories per model; PPO at Stable-Baselines3's MuJoCo defaults; TD3 256-256;
3 seeds, 10 evaluation episodes every 5000 real steps. Not run (hours in the README)."""


def _learner_config(study: MBMPOStudy, learner: str, seed: int) -> Any:
    if learner == "mb-mpo":
        return replace(study.mbmpo, total_timesteps=study.model_steps, seed=seed)
    if learner == "me-ppo":
        return replace(study.mbmpo, inner_lr=0.0, total_timesteps=study.model_steps, seed=seed)
    if learner == "single-model":
        return replace(study.mbmpo, members=1, inner_lr=0.0, total_timesteps=study.model_steps, seed=seed)
    if learner == "ppo":
        return replace(study.ppo, total_timesteps=study.ppo_steps, seed=seed)
    if learner == "td3":
        return replace(study.td3, total_timesteps=study.td3_steps, seed=seed)
    from core.errors import InputError

    raise InputError("unknown MB-MPO study learner", item=learner, expected=str(LEARNERS))


def run_learner(task: str, learner: str, config: Any, eval_every: int, eval_episodes: int) -> dict[str, Any]:
    """Train one learner on `task`; its curve ``[(real steps, mean evaluation return)]`` and seconds.

    Evaluation: ``hrl.evaluation.evaluate_policy`` (deterministic) on `eval_episodes` episodes seeded
    10 000 + i in a separate copy of the environment (no real steps counted), at step 0 and every
    `eval_every` real steps (PPO: after the first rollout that passes each multiple).
    """
    import gymnasium as gym
    import numpy as np

    from hrl.evaluation import evaluate_policy
    from hrl.model_based.rewards import known_task

    spec = known_task(task)
    eval_env = spec.make_env()
    curve: list[tuple[int, float]] = []
    next_eval = [0]

    def evaluate(agent: Any) -> None:
        if agent.num_timesteps >= next_eval[0]:
            curve.append(
                (
                    int(agent.num_timesteps),
                    float(np.mean(evaluate_policy(agent, eval_env, eval_episodes, seed=10_000))),
                )
            )
            next_eval[0] = (agent.num_timesteps // eval_every + 1) * eval_every

    start = time.perf_counter()
    if learner in ("mb-mpo", "me-ppo", "single-model"):
        from hrl.model_based.mbmpo import MBMPO

        agent: Any = MBMPO(task, config)
        evaluate(agent)
        agent.learn(callback=evaluate)
    else:
        if learner == "ppo":
            from hrl.agents.ppo import PPO

            agent = PPO(lambda: gym.make(task, **spec.make_kwargs), config)
        else:
            from hrl.agents.td3 import TD3

            agent = TD3(gym.make(task, **spec.make_kwargs), config)
        evaluate(agent)
        agent.learn(callback=evaluate)
    if curve[-1][0] != agent.num_timesteps:
        next_eval[0] = 0
        evaluate(agent)
    return {"curve": curve, "seconds": time.perf_counter() - start}


def _cached_run(out: Path, task: str, learner: str, config: Any, study: MBMPOStudy) -> dict[str, Any]:
    path = out / "mbmpo_runs" / f"{task}_{learner}_{config.seed}.json"
    stamp = {"config": asdict(config), "eval_every": study.eval_every, "eval_episodes": study.eval_episodes}
    stamp = json.loads(json.dumps(stamp))
    if path.is_file():
        saved = json.loads(path.read_text())
        if saved.get("stamp") == stamp:
            return saved["result"]
    result = run_learner(task, learner, config, study.eval_every, study.eval_episodes)
    path.parent.mkdir(parents=True, exist_ok=True)
    from core.files import atomic_write

    atomic_write(path, lambda tmp: Path(tmp).write_text(json.dumps({"stamp": stamp, "result": result})))
    return result


def _first_reaching(curve: list[list[float]], threshold: float) -> int | None:
    for steps, value in curve:
        if value >= threshold:
            return int(steps)
    return None


def _at(curve: list[list[float]], steps: int) -> float:
    """The evaluation at the first point at or after `steps` (the last point if none)."""
    for point, value in curve:
        if point >= steps:
            return value
    return curve[-1][1]


def run_mbmpo_study(options: Any, study: MBMPOStudy) -> list[Any]:
    """Run every learner, task and seed (cached per run); publish the table, the curves and a figure."""
    import numpy as np

    from core.plots import new_figure, save_figure
    from core.progress import progress
    from core.results import ResultTable, mean_sd

    out = Path(options.out)
    jobs = [
        (task, learner, seed)
        for task in study.tasks
        for learner in study.learners
        for seed in range(study.seeds)
    ]
    results: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for task, learner, seed in progress(jobs, desc="mb-mpo study runs"):
        config = _learner_config(study, learner, options.seed + seed)
        results.setdefault((task, learner), []).append(_cached_run(out, task, learner, config, study))
    rows, curve_rows = [], []
    for task in study.tasks:
        reference = results.get((task, "mb-mpo"))
        mbmpo_first = None
        if reference is not None:
            firsts = [_first_reaching(r["curve"], study.threshold) for r in reference]
            mbmpo_first = None if None in firsts else float(np.mean(firsts))
        for learner in study.learners:
            runs = results[(task, learner)]
            firsts = [_first_reaching(r["curve"], study.threshold) for r in runs]
            reached = None if None in firsts else float(np.mean(firsts))
            ratio = None if reached is None or not mbmpo_first else reached / mbmpo_first
            rows.append(
                {
                    "task": task,
                    "learner": learner,
                    "real steps": max(int(r["curve"][-1][0]) for r in runs),
                    f"return @ {study.model_steps} steps": mean_sd(
                        [_at(r["curve"], study.model_steps) for r in runs]
                    ),
                    "final return": mean_sd([r["curve"][-1][1] for r in runs]),
                    "best return": mean_sd([max(v for _, v in r["curve"]) for r in runs]),
                    f"steps to {study.threshold:g}": (
                        f"{reached:.0f}"
                        if reached is not None
                        else f"not reached ({sum(f is None for f in firsts)}/{len(firsts)} seeds)"
                    ),
                    "data ratio vs mb-mpo": None if ratio is None else round(ratio, 1),
                    "minutes per run": round(float(np.mean([r["seconds"] for r in runs])) / 60, 1),
                }
            )
            points = sorted({int(p) for r in runs for p, _ in r["curve"]})
            for point in points:
                curve_rows.append(
                    {
                        "task": task,
                        "learner": learner,
                        "real steps": point,
                        "return": mean_sd([_at(r["curve"], point) for r in runs]),
                    }
                )
    notes = (
        f"deterministic return on {study.eval_episodes} fixed episodes every {study.eval_every} real steps; "
        f"{study.seeds} seeds from {options.seed}; MB-MPO: {study.mbmpo.members} models of "
        f"{study.mbmpo.model_hidden}, inner lr {study.mbmpo.inner_lr}, {study.mbmpo.meta_steps} meta steps per "
        f"{study.mbmpo.episodes_per_iter} real episodes, reward known; single-model: 1 model, no inner step; "
        f"data ratio: a learner's mean first step count reaching {study.threshold:g} over MB-MPO's"
    )
    table = ResultTable(
        name="mbmpo",
        rows=rows,
        title="MB-MPO vs single model vs model-free PPO / TD3: return against real environment steps",
        notes=notes,
        data="gymnasium " + ", ".join(study.tasks),
    )
    options.publish(table)
    curves = ResultTable(
        name="mbmpo_curves",
        rows=curve_rows,
        title="Learning curves (mean ± sd over seeds)",
        notes=notes,
        data=table.data,
    )
    options.publish(curves)
    figure = new_figure(4.6 * len(study.tasks), 3.6)
    for t, task in enumerate(study.tasks):
        axes = figure.add_subplot(1, len(study.tasks), t + 1)
        for learner in study.learners:
            runs = results[(task, learner)]
            points = sorted({int(p) for r in runs for p, _ in r["curve"]})
            values = np.array([[_at(r["curve"], p) for p in points] for r in runs])
            x = np.maximum(points, 1)
            axes.plot(x, values.mean(0), label=learner)
            axes.fill_between(x, values.min(0), values.max(0), alpha=0.2)
        axes.set_xscale("log")
        axes.set_title(task)
        axes.set_xlabel("real environment steps")
        axes.set_ylabel("return")
        axes.legend()
    save_figure(figure, out / "mbmpo_curves.png")
    return [table, curves]


def mb_mpo(options: Any) -> list[Any]:
    """``reproduce hrl --only mb-mpo`` at ``options.scale`` (`SMOKE` or `FULL`)."""
    return run_mbmpo_study(options, SMOKE if options.scale == "smoke" else FULL)
