"""MAX on a continuous task (``reproduce hrl --only max-continuous``): coverage of HIRO's U-maze.

Model-Based Active Exploration (Shyam, Jaskowski and Gomez, ICML 2019) with Gaussian forward models,
the Jensen-Renyi novelty and SAC trained inside the ensemble (`hrl.active_exploration.ContinuousMAX`),
against the reactive baseline (model-free SAC with the same novelty as its reward, the paper's JDRX)
and uniform random actions, on the point body in HIRO's U-maze observing (x, y)
(`hrl.active_exploration.coverage.make_point_u_maze`; the paper's continuous exploration task is an
ant in a maze). Coverage: the fraction of the maze's 2 x 2 bins the body has visited
(`MazeCoverage`), against real steps. The paper's finding: MAX explores the maze faster than its
reactive baselines (a figure; no single number in our notes).

Every finished run is written to ``<out>/max_continuous_runs/<method>_<seed>.json`` with its
configuration and reused by a rerun whose configuration matches; a run in progress is checkpointed at
every episode end (``.safetensors`` beside it) and resumed.

Budgets: `SMOKE` and `FULL` (hours in the README).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from hrl.active_exploration.config import CONTINUOUS_METHODS, ContinuousMAXConfig

__all__ = [
    "FULL",
    "SMOKE",
    "MaxContinuousStudy",
    "max_continuous",
    "run_explorer",
    "run_max_continuous_study",
]

METHOD_LABELS = {
    "max": "MAX (SAC in the ensemble)",
    "reactive": "reactive (SAC on the novelty, JDRX)",
    "random": "random actions",
}


@dataclass(frozen=True)
class MaxContinuousStudy:
    """One study: ``methods`` x ``seeds`` runs of ``episodes`` episodes of ``episode_steps`` steps.

    ``agent`` is the `ContinuousMAXConfig` every run starts from (``method``, ``seed`` and
    ``total_timesteps`` are set per run); ``report_every``: episodes between rows of the curve table;
    ``threshold``: the coverage whose first crossing (in steps) the final table reports.
    """

    episode_steps: int = 100
    episodes: int = 20
    seeds: int = 2
    methods: tuple[str, ...] = CONTINUOUS_METHODS
    report_every: int = 5
    threshold: float = 0.4
    agent: ContinuousMAXConfig = field(
        default_factory=lambda: ContinuousMAXConfig(
            ensemble_size=8,
            model_hidden=(64, 64),
            model_steps=50,
            refit_every=50,
            warm_up_steps=200,
            policy_hidden=(64, 64),
            policy_batch_size=128,
            imagined_rollouts=64,
            imagined_horizon=25,
            policy_iterations=2,
            policy_updates=50,
            policy_reset=False,
        )
    )


SMOKE = MaxContinuousStudy()
"""20 episodes of 100 steps (2 000 steps) x 3 methods x 2 seeds; 8 models of 64-64, SAC 64-64, the
policy trained on for 100 updates in the ensemble after every refit (every 50 steps)."""

FULL = MaxContinuousStudy(episodes=100, seeds=5, report_every=10, threshold=0.8, agent=ContinuousMAXConfig())
"""100 episodes (10 000 steps) x 3 methods x 5 seeds with the paper's sizes (`ContinuousMAXConfig`'s
defaults: 32 models of 4 x 512, a fresh policy of 2 500 SAC updates on 50 x 128 imagined rollouts every
25 steps); not run (hours in the README)."""


def run_explorer(study: MaxContinuousStudy, method: str, seed: int, folder: Path | None) -> dict[str, Any]:
    """One run: its coverage after every episode (cached as JSON in `folder`, checkpointed beside it)."""
    from hrl.active_exploration.coverage import MazeCoverage, make_point_u_maze
    from hrl.active_exploration.explorer import ContinuousMAX

    config = replace(
        study.agent, method=method, seed=seed, total_timesteps=study.episodes * study.episode_steps
    )
    settings = {"config": asdict(config), "episode_steps": study.episode_steps}
    settings = json.loads(json.dumps(settings))
    cache = folder / f"{method}_{seed}.json" if folder is not None else None
    if cache is not None and cache.exists():
        saved = json.loads(cache.read_text())
        if saved.get("settings") == settings:
            return saved
    coverage = MazeCoverage()
    seen = [0]

    def measure(explorer: Any) -> None:
        if seen[0] == 0:
            coverage.update(np.zeros((1, 2)))  # the start
        size = explorer.buffer.size
        explorer.history[-1]["coverage"] = coverage.update(explorer.buffer.data["next_obs"][seen[0] : size])
        seen[0] = size

    explorer = ContinuousMAX(make_point_u_maze(study.episode_steps), config)
    checkpoint = cache.with_suffix(".safetensors") if cache is not None else None
    # resumed from a checkpoint, the first callback counts every stored position at once
    explorer.learn(callback=measure, checkpoint=checkpoint, progress_bar=True)
    result = {"settings": settings, "history": explorer.history}
    if cache is not None:
        cache.write_text(json.dumps(result))
        if checkpoint is not None and checkpoint.exists():
            checkpoint.unlink()
    return result


def run_max_continuous_study(options: Any, study: MaxContinuousStudy) -> list[Any]:
    """Run `study`, publish the coverage curve and final tables, save the figure under ``options.out``."""
    from core.errors import InputError
    from core.plots import new_figure, save_figure
    from core.results import ResultTable, mean_sd

    unknown = [name for name in study.methods if name not in CONTINUOUS_METHODS]
    if unknown:
        raise InputError(
            "unknown exploration method", item=unknown[0], expected=f"one of {CONTINUOUS_METHODS}"
        )
    folder = Path(options.out) / "max_continuous_runs"
    folder.mkdir(parents=True, exist_ok=True)
    a = study.agent
    data = "hrl.active_exploration.coverage.make_point_u_maze (simulated; HIRO's U-maze, point body, (x, y) observed)"
    notes = (
        f"{study.episodes} episodes of {study.episode_steps} steps, {study.seeds} seeds from {options.seed}; "
        f"{a.ensemble_size} Gaussian models {a.model_hidden}, SAC {a.policy_hidden}, refit every {a.refit_every} steps "
        f"after {a.warm_up_steps} random ones; coverage: fraction of the maze's 112 bins of 2 x 2 visited; "
        "the paper: MAX explores the maze faster than reactive baselines (a figure, no single number)"
    )
    histories: dict[str, list[list[dict]]] = {}
    curve = None
    for method in study.methods:
        for i in range(study.seeds):
            run = run_explorer(study, method, options.seed + i, folder)
            histories.setdefault(method, []).append(run["history"])
        rows = [
            {
                "method": METHOD_LABELS[name],
                "episode": episode,
                "step": episode * study.episode_steps,
                "coverage": mean_sd([run[episode - 1]["coverage"] for run in runs]),
            }
            for name, runs in histories.items()
            for episode in range(study.report_every, study.episodes + 1, study.report_every)
        ]
        curve = ResultTable(
            "exploration_max_continuous_coverage",
            rows,
            title="Coverage of HIRO's U-maze by a point body against real steps",
            notes=notes,
            data=data,
        )
        options.publish(curve)  # re-published after each method: a killed study keeps the finished ones

    def first_crossing(run: list[dict]) -> float | None:
        steps = [row["step"] for row in run if row["coverage"] >= study.threshold]
        return float(steps[0]) if steps else None

    final_rows = []
    for name, runs in histories.items():
        crossings = [first_crossing(run) for run in runs]
        reached = [c for c in crossings if c is not None]
        final_rows.append(
            {
                "method": METHOD_LABELS[name],
                "coverage_at_end": mean_sd([run[-1]["coverage"] for run in runs]),
                "per_seed": [round(run[-1]["coverage"], 3) for run in runs],
                f"runs_reaching_{study.threshold}": f"{len(reached)}/{len(runs)}",
                f"steps_to_{study.threshold}": mean_sd(reached) if reached else None,
            }
        )
    final = ResultTable(
        "exploration_max_continuous_final",
        final_rows,
        title=f"Coverage of the U-maze after {study.episodes * study.episode_steps} steps",
        notes=notes + f"; steps_to_{study.threshold}: over the runs that reached it (null: none did)",
        data=data,
    )
    options.publish(final)
    figure = new_figure(6.4, 4.0)
    axes = figure.add_subplot()
    for name, runs in histories.items():
        steps = np.array([row["step"] for row in runs[0]])
        values = np.array([[row["coverage"] for row in run] for run in runs], dtype=float)
        axes.plot(steps, values.mean(0), marker=".", label=METHOD_LABELS[name])
        axes.fill_between(steps, values.min(0), values.max(0), alpha=0.2)
    axes.set_xlabel("real environment steps")
    axes.set_ylabel("fraction of the maze visited")
    axes.set_ylim(0, 1)
    axes.set_title("MAX on the point U-maze")
    axes.legend(fontsize=8)
    save_figure(figure, Path(options.out) / "exploration_max_continuous_coverage.png")
    return [curve, final]


def max_continuous(options: Any) -> list[Any]:
    """``reproduce hrl --only max-continuous`` at ``options.scale``."""
    return run_max_continuous_study(options, SMOKE if options.scale == "smoke" else FULL)
