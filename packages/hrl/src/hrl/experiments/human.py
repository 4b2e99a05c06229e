"""The human-priors study (``reproduce hrl --only human``): steps-to-solve per rendering, agent and people.

Dubey, Agrawal, Pathak, Griffiths and Efros, "Investigating Human Priors for Playing Video Games"
(ICML 2018). The platformer `hrl.envs.priors` is played by a learner without priors, `CountQ`
(count-based tabular Q-learning on hashed pixels), in every rendering over seeds; each run stops at
its first solve and reports the steps it took (the paper's measure for people is time and actions to
finish), the attempts and deaths on the way and the distinct frames it met. A shortest solution
(breadth-first search over the game state) gives the floor. The human side is whatever
`hrl play priors` recordings lie in ``HumanStudy.trajectories`` (none are shipped: we have no
people to measure); they are summarised per rendering beside the agent.

The paper's finding: people need far longer when priors are masked ("from 2 minutes to over 20
minutes", the abstract; "just under 1 minute of game-play or 3000 action inputs" on the original
game, 40 subjects, the introduction), while "the performance of an RL agent was approximately the
same" for the original and a re-rendered game (Figure 1's caption). Per-rendering numbers of the
paper are not in our summary (``PAPER`` has only these quotes).

Budgets: `SMOKE` (minutes on one core), `FULL` (its hours in its docstring). Runs already done are
read back from ``OUT/human_runs.json`` (a killed study resumes run by run).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from hrl.config import ATARI_PPO, PPOConfig
from hrl.human.config import RENDERINGS, CountQConfig

__all__ = ["FULL", "PAPER", "SMOKE", "HumanStudy", "human", "run_human_study"]

PAPER = {
    "people, original": "just under 1 min / about 3000 actions (40 subjects)",
    "people, priors masked": "from 2 min to over 20 min (the strongest masking)",
    "RL agent": "approximately the same on the original and a re-rendered game",
}
"""The paper's numbers as its abstract, introduction and Figure 1 caption state them."""


@dataclass(frozen=True)
class HumanStudy:
    """Budget of the study.

    Attributes:
        renderings: which of `hrl.envs.priors.RENDERINGS` to run.
        seeds: agent runs per rendering (seeds ``options.seed + i``).
        max_steps: steps per attempt (episode) of the game.
        agent: `CountQConfig` (``seed`` set per run; ``total_timesteps`` is the step cap).
        trajectories: a folder of ``hrl play priors`` recordings to summarise (skipped when absent).
        simhash_bits, simhash_seeds, simhash_cap: the same agent keyed by a k-bit SimHash of the
            pixels (``CountQConfig.hash_bits``; similar frames share a row, so the look matters), its
            seeds per rendering and step cap (0 seeds: not run).
        ppo: PPO's CNN policy with the pixel-count bonus (`hrl.human.pixel_counts`) on
            `hrl.envs.priors.SMALL_LAYOUT` at 8 pixels per tile, ``ppo_seeds`` runs per rendering,
            each to its first solve or ``ppo.total_timesteps``; None: not run.
    """

    renderings: tuple[str, ...] = RENDERINGS
    seeds: int = 2
    max_steps: int = 500
    agent: CountQConfig = field(default_factory=lambda: CountQConfig(total_timesteps=1_000_000))
    trajectories: str = "runs/priors"
    ppo: PPOConfig | None = None
    ppo_seeds: int = 3
    simhash_bits: int = 64
    simhash_seeds: int = 1
    simhash_cap: int = 300_000


PPO_FULL = replace(ATARI_PPO, intrinsic_coef=0.1, total_timesteps=500_000)
"""SB3's Atari PPO settings, the count bonus at 0.1 x the (single, terminal) reward of 1."""

SMOKE = HumanStudy()
"""Exact pixels: 5 renderings x 2 seeds, each run to its first solve (about 65 000-73 000 steps, about
20 s per run on one loaded core), about 4 minutes; SimHash: 5 renderings x 1 seed, up to 3 x 10^5 steps
(about 150 s per run), about 12 minutes."""

FULL = HumanStudy(seeds=20, simhash_seeds=10, simhash_cap=2_000_000, ppo=PPO_FULL)
"""CountQ: 5 renderings x 20 seeds, 100 runs of about 20 s (about 35 minutes on one core). SimHash: 5
renderings x 10 seeds up to 2 x 10^6 steps (about 2 000 steps/s): up to 14 hours. PPO:
5 renderings x 3 seeds on the small level, up to 5 x 10^5 steps each: at the 62 steps/s measured on
the shared 2-core machine (one thread, under load) up to 2.2 hours per run, up to 34 hours in all
(not run; a GPU or an idle core is faster)."""


def _run(study: HumanStudy, rendering: str, seed: int, simhash: bool = False) -> dict[str, Any]:
    from hrl.envs.priors import PriorsPlatformer
    from hrl.human.count_q import CountQ

    start = time.perf_counter()
    env = PriorsPlatformer(rendering, max_steps=study.max_steps)
    config = replace(study.agent, seed=seed)
    if simhash:
        config = replace(config, hash_bits=study.simhash_bits, total_timesteps=study.simhash_cap)
    agent = CountQ(env, config).learn()
    outcomes = [e["outcome"] for e in agent.history]
    return {
        "rendering": rendering,
        "seed": seed,
        "steps to solve": agent.solved_at,
        "attempts": len(agent.history),
        "deaths": outcomes.count("died"),
        "timeouts": outcomes.count("timeout"),
        "distinct frames": agent.n_states,
        "seconds": round(time.perf_counter() - start, 1),
    }


def run_human_study(options: Any, study: HumanStudy) -> list[Any]:
    """Run every rendering and seed (resuming from ``OUT/human_runs.json``); publish the tables and figures."""
    import numpy as np

    from core.files import atomic_write
    from core.progress import progress
    from core.results import ResultTable, mean_sd
    from hrl.envs.priors import PriorsPlatformer, shortest_solution
    from hrl.human.config import check_rendering

    for rendering in study.renderings:
        check_rendering(rendering)
    out = Path(options.out)
    out.mkdir(parents=True, exist_ok=True)
    cache_path = out / "human_runs.json"
    settings = {"max_steps": study.max_steps, "agent": asdict(replace(study.agent, seed=0))}
    cache = json.loads(cache_path.read_text()) if cache_path.exists() else {}
    if cache.get("settings") != settings:
        cache = {"settings": settings, "runs": {}}
    todo = [(r, options.seed + i, False) for r in study.renderings for i in range(study.seeds)]
    todo += [(r, options.seed + i, True) for r in study.renderings for i in range(study.simhash_seeds)]
    tag = f"simhash{study.simhash_bits}-{study.simhash_cap}"
    for rendering, seed, simhash in progress(todo, "priors runs"):
        key = f"{tag}/{rendering}/{seed}" if simhash else f"{rendering}/{seed}"
        if key not in cache["runs"]:
            cache["runs"][key] = _run(study, rendering, seed, simhash)
            text = json.dumps(cache, indent=1)
            atomic_write(cache_path, lambda tmp, text=text: Path(tmp).write_text(text))
    optimum = len(shortest_solution(PriorsPlatformer(max_steps=study.max_steps)) or [])
    rows = []
    for simhash in (False, True):
        runs = [
            cache["runs"][f"{tag}/{r}/{s}" if simhash else f"{r}/{s}"] for r, s, h in todo if h == simhash
        ]

        def solved_steps(rendering: str, runs: list = runs) -> list[float]:
            return [
                float(r["steps to solve"])
                for r in runs
                if r["rendering"] == rendering and r["steps to solve"]
            ]

        base = solved_steps("original") if "original" in study.renderings else []
        for rendering in study.renderings if runs else ():
            group = [r for r in runs if r["rendering"] == rendering]
            steps = solved_steps(rendering)
            rows.append(
                {
                    "agent": f"CountQ, {study.simhash_bits}-bit SimHash"
                    if simhash
                    else "CountQ, exact pixels",
                    "rendering": rendering,
                    "solved": f"{len(steps)}/{len(group)}",
                    "steps to solve": mean_sd(steps, digits=0),
                    "x original": round(float(np.mean(steps) / np.mean(base)), 3) if steps and base else None,
                    "attempts": mean_sd([r["attempts"] for r in group], digits=1),
                    "deaths": mean_sd([r["deaths"] for r in group], digits=1),
                    "distinct frames": mean_sd([r["distinct frames"] for r in group], digits=0),
                    "paper": PAPER["RL agent"] if rendering == "original" and not simhash else "",
                }
            )
    cap = study.agent.total_timesteps
    notes = (
        f"CountQ (tabular Q on BLAKE2b digests of the pixels; lr {study.agent.learning_rate}, gamma "
        f"{study.agent.gamma}, bonus {study.agent.bonus}/sqrt(n), optimistic start), {study.seeds} seeds "
        f"from {options.seed}, each run stopped at its first solve (cap {cap} steps), {study.max_steps}-step "
        f"attempts; SimHash rows: the same agent keyed by sign(A x), A a fixed {study.simhash_bits} x pixels "
        f"Gaussian matrix, {study.simhash_seeds} seeds, cap {study.simhash_cap} steps ('distinct frames' "
        f"counts codes). A shortest solution takes {optimum} steps. Exact pixels: same seed, same run in "
        "every rendering is "
        "expected by construction (a one-to-one re-rendering gives an isomorphic table): the table measures it. "
        f"Paper, people: {PAPER['people, original']} on the original game; {PAPER['people, priors masked']}."
    )
    table = ResultTable(
        name="human_priors_agent",
        rows=rows,
        title="Human priors: a prior-free agent's steps to solve the platformer in each rendering",
        notes=notes,
        data="hrl.envs.priors (the paper's platformer in spirit, written here)",
    )
    options.publish(table)
    tables = [table]
    folder = Path(study.trajectories)
    files = sorted(folder.glob("*.json")) if folder.is_dir() else []
    if files:
        from hrl.human.play import load_trajectory, replay, summarize

        records = [load_trajectory(f) for f in files]
        for record in records:
            replay(record)  # a file that does not replay is refused, naming the event
        people = ResultTable(
            name="human_priors_people",
            rows=summarize(records),
            title="Human priors: recorded people (hrl play priors) per rendering",
            notes=f"{len(files)} recordings from {folder}, each replayed and checked state by state. "
            f"Paper: {PAPER['people, original']}; {PAPER['people, priors masked']}.",
            data=table.data,
        )
        options.publish(people)
        tables.append(people)
    if study.ppo is not None:
        tables.append(_ppo_table(options, study, cache, cache_path))
    _figures(out, study, rows)
    return tables


def _ppo_table(options: Any, study: HumanStudy, cache: dict[str, Any], cache_path: Path) -> Any:
    """PPO (CNN, pixel-count bonus) on the small level: steps to solve per rendering."""
    from core.files import atomic_write
    from core.progress import progress
    from core.results import ResultTable, mean_sd
    from hrl.envs.priors import SMALL_LAYOUT
    from hrl.human.pixel_counts import ppo_steps_to_solve

    todo = [(r, options.seed + i) for r in study.renderings for i in range(study.ppo_seeds)]
    for rendering, seed in progress(todo, "priors PPO runs"):
        key = f"ppo/{rendering}/{seed}/{study.ppo.total_timesteps}"
        if key not in cache["runs"]:
            game = {"rendering": rendering, "layout": SMALL_LAYOUT, "tile": 8, "max_steps": 100}
            start = time.perf_counter()
            result = ppo_steps_to_solve(game, replace(study.ppo, seed=seed))
            cache["runs"][key] = {**result, "seconds": round(time.perf_counter() - start, 1)}
            text = json.dumps(cache, indent=1)
            atomic_write(cache_path, lambda tmp, text=text: Path(tmp).write_text(text))
    rows = []
    for rendering in study.renderings:
        group = [
            cache["runs"][f"ppo/{rendering}/{options.seed + i}/{study.ppo.total_timesteps}"]
            for i in range(study.ppo_seeds)
        ]
        steps = [float(r["steps to solve"]) for r in group if r["steps to solve"]]
        rows.append(
            {
                "rendering": rendering,
                "solved": f"{len(steps)}/{len(group)}",
                "steps to solve": mean_sd(steps, digits=0),
                "steps run": mean_sd([r["steps run"] for r in group], digits=0),
                "distinct frames": mean_sd([r["distinct frames"] for r in group], digits=0),
                "seconds": mean_sd([r["seconds"] for r in group], digits=0),
            }
        )
    table = ResultTable(
        name="human_priors_ppo",
        rows=rows,
        title="Human priors: PPO (Nature CNN on pixels, pixel-count bonus) on the small level per rendering",
        notes=f"{study.ppo_seeds} seeds, cap {study.ppo.total_timesteps} steps, 8 pixels per tile, 100-step "
        f"attempts; PPO {study.ppo}. {PAPER['RL agent']} (the paper).",
        data="hrl.envs.priors.SMALL_LAYOUT",
    )
    options.publish(table)
    return table


def _figures(out: Path, study: HumanStudy, rows: list[dict[str, Any]]) -> None:
    """A strip of the start frame in every rendering, and steps to solve per rendering."""
    import numpy as np

    from core.plots import new_figure, save_figure
    from hrl.envs.priors import PriorsPlatformer

    figure = new_figure(2.6 * len(study.renderings), 2.2)
    for i, rendering in enumerate(study.renderings):
        env = PriorsPlatformer(rendering, render_mode="rgb_array", max_steps=study.max_steps)
        env.reset()
        axes = figure.add_subplot(1, len(study.renderings), i + 1)
        axes.imshow(env.render())
        axes.set_title(rendering)
        axes.axis("off")
    save_figure(figure, out / "human_priors_renderings.png")
    figure = new_figure(7.0, 3.2)
    axes = figure.add_subplot(1, 1, 1)
    means = [r["steps to solve"].mean if r["steps to solve"].mean is not None else np.nan for r in rows]
    sds = [r["steps to solve"].sd or 0.0 for r in rows]
    colours = ["tab:orange" if "SimHash" in r["agent"] else "tab:blue" for r in rows]
    axes.bar(range(len(rows)), means, yerr=sds, color=colours)
    labels = [r["rendering"] + ("\nSimHash" if "SimHash" in r["agent"] else "") for r in rows]
    axes.set_xticks(range(len(rows)), labels, fontsize=7)
    axes.set_ylabel("steps to first solve")
    axes.set_title("prior-free agent (CountQ): exact pixels (blue), SimHash (orange; unsolved: no bar)")
    save_figure(figure, out / "human_priors_steps.png")


def human(options: Any) -> list[Any]:
    """``reproduce hrl --only human`` at ``options.scale`` (`SMOKE` or `FULL`)."""
    return run_human_study(options, SMOKE if options.scale == "smoke" else FULL)
