"""The exploration study (``reproduce hrl --only exploration``): MAX against reactive and random exploration.

Model-Based Active Exploration (Shyam, Jaskowski and Gomez, ICML 2019) on the randomised chain
(`hrl.envs.chain.RandomChain`): states (and state-action pairs) visited against environment steps
for MAX (planning in the learned ensemble to where its members disagree), a reactive agent
(Q-learning on the same ensemble's disagreement, received only after the fact) and uniform random
actions, several seeds each. The paper's finding: in such semi-random discrete environments, where
directed exploration is critical, MAX is "at least an order of magnitude more efficient than strong
baselines" (its abstract; its baselines are Bootstrapped DQN and exploration-bonus DQN, ours the
reactive and random agents above). A table of coverage per episode (published as computed), a final
table with the episodes each method needed to visit every state, and a figure.

Budgets: `SMOKE` and `FULL` (hours stated there).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["FULL", "METHODS", "SMOKE", "ChainStudy", "exploration", "run_chain_study"]

METHODS = ("max", "reactive", "random")


@dataclass(frozen=True)
class ChainStudy:
    """Budget of one run of the chain study.

    Attributes:
        length: states in the chain (episodes last length + 9 steps).
        episodes: episodes per run.
        seeds: runs per method (seeds ``options.seed + i``; the chain's layout is seed ``options.seed``).
        methods: which of `METHODS` to run.
        report_every: episodes between rows of the curve table.
    """

    length: int = 50
    episodes: int = 20
    seeds: int = 2
    methods: tuple[str, ...] = METHODS
    report_every: int = 5


SMOKE = ChainStudy()
"""A 50-state chain, 20 episodes (1 180 steps) x 3 methods x 2 seeds. Measured on the shared 2-core
machine under load ~10: 430 s wall, 56 s of CPU (about 12 ms of CPU per MAX or reactive step)."""

FULL = ChainStudy(length=100, episodes=100, seeds=5, report_every=10)
"""A 100-state chain, 100 episodes (10 900 steps) x 3 methods x 5 seeds: 10 runs that fit models, 109 000
steps; at the smoke run's 12 ms of CPU per step about 22 minutes, more since planning grows with the square
of the states: under 1 CPU hour on one core (not run)."""


def run_chain_study(options: Any, study: ChainStudy) -> list[Any]:
    """Run `study`, publishing its tables and saving its figure under ``options.out``."""
    from core.errors import InputError
    from core.plots import new_figure, save_figure
    from core.results import ResultTable, mean_sd
    from hrl.agents.max import MAXExplorer
    from hrl.config import MAXConfig
    from hrl.envs.chain import RandomChain

    unknown = [name for name in study.methods if name not in METHODS]
    if unknown:
        raise InputError("unknown exploration method", item=unknown[0], expected=f"one of {METHODS}")
    steps_per_episode = study.length + 9
    data = (
        f"RandomChain(length={study.length}, layout_seed={options.seed}) (simulated; MAX's randomised chain)"
    )
    notes = (
        f"{study.episodes} episodes of {steps_per_episode} steps, {study.seeds} seeds from {options.seed}; "
        "the paper (abstract): MAX is at least an order of magnitude more efficient than strong baselines "
        "on semi-random discrete environments"
    )
    histories: dict[str, list[list[dict]]] = {}
    for method in study.methods:
        for i in range(study.seeds):
            config = MAXConfig(
                method=method, total_timesteps=study.episodes * steps_per_episode, seed=options.seed + i
            )
            explorer = MAXExplorer(RandomChain(study.length, layout_seed=options.seed), config).learn()
            histories.setdefault(method, []).append(explorer.history)
        rows = [
            {
                "method": name,
                "episode": episode,
                "step": episode * steps_per_episode,
                "states_visited": mean_sd([run[episode - 1]["states_visited"] for run in runs]),
                "pairs_visited": mean_sd([run[episode - 1]["pairs_visited"] for run in runs]),
            }
            for name, runs in histories.items()
            for episode in range(study.report_every, study.episodes + 1, study.report_every)
        ]
        curve = ResultTable(
            "exploration_chain_coverage",
            rows,
            title=f"States and state-action pairs visited on a {study.length}-state randomised chain",
            notes=notes,
            data=data,
        )
        options.publish(curve)  # re-published after each method: a killed run keeps the finished ones

    def episodes_to_cover(run: list[dict]) -> float | None:
        full = [row["step"] // steps_per_episode for row in run if row["states_visited"] == study.length]
        return float(full[0]) if full else None

    final_rows = []
    for name, runs in histories.items():
        needed = [episodes_to_cover(run) for run in runs]
        covered = [n for n in needed if n is not None]
        final_rows.append(
            {
                "method": name,
                "states_visited_at_end": mean_sd([run[-1]["states_visited"] for run in runs]),
                "pairs_visited_at_end": mean_sd([run[-1]["pairs_visited"] for run in runs]),
                "runs_covering_every_state": f"{len(covered)}/{len(runs)}",
                "episodes_to_cover_every_state": mean_sd(covered) if covered else None,
            }
        )
    final = ResultTable(
        "exploration_chain_final",
        final_rows,
        title=f"Coverage after {study.episodes} episodes on a {study.length}-state chain "
        f"({study.length} states, {3 * study.length} state-action pairs)",
        notes=notes + "; episodes_to_cover_every_state: over the runs that did (null: none did)",
        data=data,
    )
    options.publish(final)
    figure = new_figure(6.4, 4.0)
    axes = figure.add_subplot()
    for name, runs in histories.items():
        steps = np.array([row["step"] for row in runs[0]])
        visited = np.array([[row["states_visited"] for row in run] for run in runs], dtype=float)
        axes.plot(steps, visited.mean(0), marker=".", label=name)
        axes.fill_between(steps, visited.min(0), visited.max(0), alpha=0.2)
    axes.axhline(study.length, color="0.5", linestyle=":", label="every state")
    axes.set_xlabel("environment steps")
    axes.set_ylabel("states visited")
    axes.set_title(f"Exploration of a {study.length}-state randomised chain")
    axes.legend()
    save_figure(figure, Path(options.out) / "exploration_chain_coverage.png")
    return [curve, final]


def exploration(options: Any) -> list[Any]:
    """``reproduce hrl --only exploration``: the chain study at ``options.scale``."""
    return run_chain_study(options, SMOKE if options.scale == "smoke" else FULL)
