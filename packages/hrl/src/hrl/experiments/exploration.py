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

DIAYN (Eysenbach et al., ICLR 2019) on a 2-D point room without reward (`run_diayn_study`): after
training, each skill's deterministic rollout is classified by the learnt discriminator (accuracy
against chance 1 / K) and the skills' final positions are compared (mean pairwise distance), before and
after training; a figure draws each skill's x-y trace. The paper's finding: skills become distinct and
spread over the space with no reward (its 2-D navigation figures; it gives no single number to match).

Budgets: `SMOKE`, `FULL`, `DIAYN_SMOKE`, `DIAYN_FULL` (hours stated there).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "DIAYN_FULL",
    "DIAYN_SMOKE",
    "FULL",
    "METHODS",
    "SMOKE",
    "ChainStudy",
    "DiaynStudy",
    "exploration",
    "run_chain_study",
    "run_diayn_study",
]

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


@dataclass(frozen=True)
class DiaynStudy:
    """Budget of the DIAYN study on `hrl.envs.point_maze.make_point_room`.

    Attributes:
        skills: K. steps: environment steps per seed. seeds: runs (seeds ``options.seed + i``).
        episode_steps: steps per episode. hidden: widths of the policy, critics and discriminator.
        lr: Adam step size of all of them. learning_starts: random steps first.
    """

    skills: int = 4
    steps: int = 6_000
    seeds: int = 2
    episode_steps: int = 50
    hidden: tuple[int, ...] = (64, 64)
    lr: float = 1e-3
    learning_starts: int = 500


DIAYN_SMOKE = DiaynStudy()
"""4 skills, 6 000 steps, 2 seeds, 64-64: measured 458 s on the shared 2-core machine under load ~10."""

DIAYN_FULL = DiaynStudy(skills=10, steps=100_000, seeds=5, hidden=(300, 300), lr=3e-4)
"""The paper's sizes (10 skills here, 300-300, lr 3e-4) for 100 000 steps x 5 seeds: about 17 x the smoke
run's steps per seed with bigger networks: roughly 1-3 CPU hours on one core (not run)."""


def _skill_rollouts(agent: Any, study: DiaynStudy, seed: int) -> list[np.ndarray]:
    from hrl.envs.point_maze import make_point_room

    env, traces = make_point_room(study.episode_steps), []
    for skill in range(study.skills):
        obs, _ = env.reset(seed=seed)
        states, done = [np.asarray(obs, dtype=np.float32)], False
        while not done:
            action, _ = agent.predict(obs, state=skill, deterministic=True)
            obs, _, terminated, truncated, _ = env.step(action)
            states.append(np.asarray(obs, dtype=np.float32))
            done = terminated or truncated
        traces.append(np.stack(states))
    return traces


def _skill_scores(agent: Any, traces: list[np.ndarray]) -> tuple[float, float]:
    """(discriminator accuracy over every visited state after the first, mean pairwise final distance)."""
    import torch

    correct = total = 0
    for skill, trace in enumerate(traces):
        with torch.no_grad():
            guess = agent.discriminate(torch.from_numpy(trace[1:])).argmax(-1)
        correct, total = correct + int((guess == skill).sum()), total + len(trace) - 1
    finals = np.stack([trace[-1] for trace in traces])
    pairs = [np.linalg.norm(a - b) for i, a in enumerate(finals) for b in finals[i + 1 :]]
    return correct / total, float(np.mean(pairs))


def diayn_config(study: DiaynStudy, seed: int) -> Any:
    """The `DIAYNConfig` of one seed of `study` (the x-y prior: the discriminator sees (x, y))."""
    from hrl.config import DIAYNConfig

    return DIAYNConfig(
        skills=study.skills,
        hidden=study.hidden,
        discriminator_hidden=study.hidden,
        lr=study.lr,
        discriminator_lr=study.lr,
        discriminator_indices=(0, 1),
        learning_starts=study.learning_starts,
        total_timesteps=study.steps,
        seed=seed,
    )


def train_diayn_skills(study: DiaynStudy, seed: int, path: Path | None = None) -> Any:
    """One seed's DIAYN skills on the point room, trained and (with `path`) saved without the buffer."""
    from hrl.agents.diayn import DIAYN
    from hrl.envs.point_maze import make_point_room

    agent = DIAYN(make_point_room(study.episode_steps), diayn_config(study, seed))
    agent.learn()
    if path is not None:
        agent.save(path, include_buffer=False)
    return agent


def run_diayn_study(options: Any, study: DiaynStudy) -> list[Any]:
    """Train DIAYN per seed, publish the skill table, draw the skills' traces (seed ``options.seed``).
    Each seed's skills are saved as ``<out>/diayn_skills_<seed>.safetensors`` for the downstream study."""
    from core.plots import new_figure, save_figure
    from core.results import ResultTable, mean_sd
    from hrl.agents.diayn import DIAYN
    from hrl.envs.mazes import OPEN_ROOM, wall_boxes
    from hrl.envs.point_maze import make_point_room

    scores: dict[str, list[tuple[float, float]]] = {"before training": [], "after training": []}
    first_traces = None
    for i in range(study.seeds):
        seed = options.seed + i
        agent = DIAYN(make_point_room(study.episode_steps), diayn_config(study, seed))
        scores["before training"].append(_skill_scores(agent, _skill_rollouts(agent, study, seed)))
        agent.learn()
        agent.save(Path(options.out) / f"diayn_skills_{seed}.safetensors", include_buffer=False)
        traces = _skill_rollouts(agent, study, seed)
        scores["after training"].append(_skill_scores(agent, traces))
        first_traces = first_traces or traces
    table = ResultTable(
        "exploration_diayn_skills",
        [
            {
                "when": when,
                "discriminator_accuracy": mean_sd([a for a, _ in values]),
                "chance": 1.0 / study.skills,
                "final_position_spread": mean_sd([d for _, d in values]),
            }
            for when, values in scores.items()
        ],
        title=f"DIAYN: {study.skills} skills on a 2-D point room without reward",
        notes=(
            f"{study.steps} steps per seed, {study.seeds} seeds from {options.seed}, networks {study.hidden}, lr {study.lr}; "
            "accuracy: the discriminator's guess of the skill on each state of each skill's deterministic rollout; "
            "spread: mean distance between the skills' final (x, y) (the room is 24 x 24, walls of the cells "
            "around it); the paper: distinct skills spread over the space with no reward (no single number)"
        ),
        data="hrl.envs.point_maze.make_point_room (simulated)",
    )
    options.publish(table)
    figure = new_figure(4.8, 4.8)
    axes = figure.add_subplot()
    from matplotlib.patches import Rectangle

    for x_min, x_max, y_min, y_max in wall_boxes(OPEN_ROOM):
        axes.add_patch(Rectangle((x_min, y_min), x_max - x_min, y_max - y_min, color="0.6"))
    for skill, trace in enumerate(first_traces or []):
        axes.plot(trace[:, 0], trace[:, 1], marker=".", markersize=3, label=f"skill {skill}")
    axes.set_xlim(-20, 20)
    axes.set_ylim(-20, 20)
    axes.set_aspect("equal")
    axes.set_title(f"DIAYN skills after {study.steps} steps (seed {options.seed})")
    axes.legend(fontsize=7)
    save_figure(figure, Path(options.out) / "exploration_diayn_skills.png")
    return [table]


def exploration(options: Any) -> list[Any]:
    """``reproduce hrl --only exploration``: the chain study, then DIAYN, at ``options.scale``."""
    from hrl.experiments.diayn_downstream import DOWNSTREAM_FULL, DOWNSTREAM_SMOKE, run_diayn_downstream

    smoke = options.scale == "smoke"
    tables = run_chain_study(options, SMOKE if smoke else FULL)
    skills = DIAYN_SMOKE if smoke else DIAYN_FULL
    tables += run_diayn_study(options, skills)
    return tables + run_diayn_downstream(options, skills, DOWNSTREAM_SMOKE if smoke else DOWNSTREAM_FULL)
