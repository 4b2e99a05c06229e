"""The city-navigation study (``reproduce hrl --only city``): CityNav on procedural cities and transfer.

Mirowski, Grimes, Malinowski, Hermann, Anderson, Teplyashin, Simonyan, Kavukcuoglu, Zisserman and
Hadsell, "Learning to Navigate in Cities Without a Map" (NeurIPS 2018). Street View is not available
offline, so the study runs on `hrl.envs.city`'s procedural cities: CityNav (`hrl.city.agent`) is
trained with the goal-distance curriculum on city A; then on a new city B either a fresh city pathway
(goal LSTM + heading head) is trained with everything else frozen (the paper's MultiCityNav transfer)
or a whole agent is trained from scratch for the same steps. Every agent, a uniform random policy and
the shortest-path oracle (breadth-first search over (node, heading)) are evaluated on goals reached per
1000 steps with goals anywhere in the city; the agents' ratio to the oracle is the paper's measure.

The paper's findings, as our summary (`shared/papers/hrl.md` sec. 3) states them: goal-reaching
reward "around 3/4 as strong as an Oracle model" that knows the map; transfer to a new city works by
retraining only the city-specific goal pathway; the curriculum and the early reward within 200 m make
the sparse task trainable. Budgets: `SMOKE` (minutes), `FULL` (hours in its docstring). Finished
phases are read back from ``OUT/city_runs.json`` and ``OUT/city_<phase>_<seed>.pt`` (resumes phase by phase).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from hrl.city.config import CityConfig, CityNavConfig

__all__ = ["FULL", "PAPER", "SMOKE", "CityStudy", "city", "run_city_study"]

PAPER = {
    "agent / oracle": "about 3/4 (goal-reaching reward, the summary's wording)",
    "transfer": "a new city learnt by training only its goal pathway (MultiCityNav)",
}


@dataclass(frozen=True)
class CityStudy:
    """Budget of the study.

    Attributes:
        city: the task (`CityConfig`); city A uses ``city_seed``, city B ``city_seed + 1``.
        agent: CityNav and A2C (`CityNavConfig`; ``seed`` set per run).
        steps_a: training steps on city A; steps_b: steps of transfer and of scratch on city B.
        seeds: runs of the whole protocol (seeds ``options.seed + i``).
        eval_episodes: evaluation episodes per policy (goals anywhere in the city).
        window: steps per learning-curve row.
    """

    city: CityConfig = field(default_factory=lambda: CityConfig(size=4, max_steps=100))
    agent: CityNavConfig = field(default_factory=CityNavConfig)
    steps_a: int = 40_000
    steps_b: int = 20_000
    seeds: int = 1
    eval_episodes: int = 10
    window: int = 2000


SMOKE = CityStudy()
"""4 x 4 intersections, 100-step episodes; 40 000 steps on A, 20 000 each for transfer and scratch on
B, one seed: 587 s measured on the shared 2-core machine under a load average of about 15 (7.3 s per
1000 steps; a first 20 000-step probe ran at 2.7 s per 1000)."""

FULL = CityStudy(
    city=CityConfig(size=8, max_steps=500, n_landmarks=16),
    agent=CityNavConfig(n_envs=16, curriculum_start_m=200.0, curriculum_steps=2_000_000),
    steps_a=5_000_000,
    steps_b=1_000_000,
    seeds=3,
    eval_episodes=50,
    window=50_000,
)
"""8 x 8 intersections, 16 landmarks, 500-step episodes, 5 x 10^6 steps on A and 10^6 each on B, 3
seeds: 2.1 x 10^7 steps, about 16 hours on one core at 2.7 s per 1000 steps, 43 at 7.3 (not run; the
paper trains with IMPALA's many actors for far longer: whether this budget suffices is untested)."""


def _phase(study: CityStudy, options: Any, out: Path, seed: int, phase: str, cache: dict) -> dict[str, Any]:
    import torch

    from hrl.city.agent import CityNavNet, agent_policy, evaluate_goals, train_citynav
    from hrl.envs.city import CityNavigation

    city_a = study.city
    city_b = replace(study.city, city_seed=study.city.city_seed + 1)
    config = replace(study.agent, seed=seed)
    start = time.perf_counter()
    if phase == "A":
        net = CityNavNet(city_a.image_size, city_a.n_landmarks, config, city="A")
        result = train_citynav(
            net, lambda i: CityNavigation(city_a), study.steps_a, city="A", window=study.window
        )
        name, city_cfg = "A", city_a
    else:
        if phase == "transfer":
            net = CityNavNet(city_a.image_size, city_a.n_landmarks, config, city="A")
            net.load_state_dict(torch.load(out / f"city_A_{seed}.pt"))
            net.add_city("B", city_b.n_landmarks)
            train_only = "pathway"
        else:
            net = CityNavNet(
                city_b.image_size, city_b.n_landmarks, replace(config, seed=seed + 1000), city="B"
            )
            train_only = "all"
        result = train_citynav(
            net,
            lambda i: CityNavigation(city_b),
            study.steps_b,
            city="B",
            train_only=train_only,
            window=study.window,
        )
        name, city_cfg = "B", city_b
    torch.save(net.state_dict(), out / f"city_{phase}_{seed}.pt")
    score = evaluate_goals(
        agent_policy(net, name, seed=seed), CityNavigation(city_cfg), study.eval_episodes, 10_000
    )
    return {
        "curve": result.curve,
        "goals per 1000 steps": score,
        "seconds": round(time.perf_counter() - start, 1),
    }


def run_city_study(options: Any, study: CityStudy) -> list[Any]:
    """Train on city A, transfer to city B (pathway only) and train B from scratch; publish tables and a figure."""
    import numpy as np

    from core.files import atomic_write
    from core.progress import progress
    from core.results import ResultTable, mean_sd
    from hrl.city.agent import evaluate_goals
    from hrl.envs.city import CityNavigation, oracle_action

    out = Path(options.out)
    out.mkdir(parents=True, exist_ok=True)
    cache_path = out / "city_runs.json"
    settings = json.loads(json.dumps(asdict(replace(study, eval_episodes=study.eval_episodes))))
    cache = json.loads(cache_path.read_text()) if cache_path.exists() else {}
    if cache.get("settings") != settings:
        cache = {"settings": settings, "runs": {}}
    seeds = [options.seed + i for i in range(study.seeds)]
    todo = [(s, p) for s in seeds for p in ("A", "transfer", "scratch")]
    for seed, phase in progress(todo, "city phases"):
        key = f"{phase}/{seed}"
        if key not in cache["runs"] or (phase == "transfer" and not (out / f"city_A_{seed}.pt").exists()):
            if phase == "transfer" and not (out / f"city_A_{seed}.pt").exists():
                cache["runs"][f"A/{seed}"] = _phase(study, options, out, seed, "A", cache)
            cache["runs"][key] = _phase(study, options, out, seed, phase, cache)
            text = json.dumps(cache, indent=1)
            atomic_write(cache_path, lambda tmp, text=text: Path(tmp).write_text(text))
    city_b = replace(study.city, city_seed=study.city.city_seed + 1)
    baselines = {}
    for label, cfg in (("A", study.city), ("B", city_b)):
        env = CityNavigation(cfg)
        rng = np.random.default_rng(options.seed)
        baselines[label] = {
            "random": evaluate_goals(
                lambda e, o, rng=rng: int(rng.integers(5)), env, study.eval_episodes, 10_000
            ),
            "oracle": evaluate_goals(lambda e, o: oracle_action(e), env, study.eval_episodes, 10_000),
        }
    rows = []
    for phase, label, steps in (
        ("A", "A", study.steps_a),
        ("transfer", "B", study.steps_b),
        ("scratch", "B", study.steps_b),
    ):
        scores = [cache["runs"][f"{phase}/{s}"]["goals per 1000 steps"] for s in seeds]
        oracle = baselines[label]["oracle"]
        rows.append(
            {
                "policy": {
                    "A": "CityNav trained on A",
                    "transfer": "transfer: new goal pathway only (frozen rest)",
                    "scratch": "from scratch",
                }[phase],
                "city": label,
                "training steps": steps,
                "goals per 1000 steps": mean_sd(scores, digits=2),
                "/ oracle": round(float(np.mean(scores)) / oracle, 3),
                "random / oracle": round(baselines[label]["random"] / oracle, 3),
                "paper": PAPER["agent / oracle"]
                if phase == "A"
                else (PAPER["transfer"] if phase == "transfer" else ""),
            }
        )
    for label in ("A", "B"):
        for kind in ("random", "oracle"):
            rows.append(
                {
                    "policy": kind,
                    "city": label,
                    "training steps": 0,
                    "goals per 1000 steps": mean_sd([baselines[label][kind]], digits=2),
                    "/ oracle": round(baselines[label][kind] / baselines[label]["oracle"], 3),
                }
            )
    c = study.city
    table = ResultTable(
        name="city_navigation",
        rows=rows,
        title="City navigation without a map: goals reached per 1000 steps (goals anywhere in the city)",
        notes=(
            f"Procedural cities {c.size} x {c.size} intersections {c.spacing_m:g} m apart, {c.delete_fraction:g} "
            f"of segments deleted, K={c.n_landmarks} landmarks, alpha {c.alpha}, {c.image_size}x{c.image_size} "
            f"views, {c.max_steps}-step courier episodes, early reward within {c.shaping_radius_m:g} m; CityNav "
            f"A2C ({study.agent.n_envs} envs x {study.agent.n_steps} steps, lr {study.agent.learning_rate}), "
            f"curriculum from {study.agent.curriculum_start_m:g} m over {study.agent.curriculum_steps} steps; "
            f"{study.seeds} seed(s) from {options.seed}; {study.eval_episodes} evaluation episodes each, actions "
            f"sampled. Paper (summary): agent/oracle {PAPER['agent / oracle']}; {PAPER['transfer']}."
        ),
        data="hrl.envs.city (procedural cities written here; StreetLearn data not available offline)",
    )
    options.publish(table)
    curve_rows = []
    for phase in ("A", "transfer", "scratch"):
        for seed in seeds:
            for row in cache["runs"][f"{phase}/{seed}"]["curve"]:
                curve_rows.append({"run": phase, "seed": seed, **row})
    curve = ResultTable(
        name="city_navigation_curve",
        rows=curve_rows,
        title="City navigation: goals reached per 1000 training steps (curriculum radius beside)",
        notes="Training-time rates under the curriculum (goals near the agent first).",
        data=table.data,
    )
    options.publish(curve)
    _figure(out, study, cache, seeds)
    return [table, curve]


def _figure(out: Path, study: CityStudy, cache: dict, seeds: list[int]) -> None:
    import numpy as np

    from core.plots import new_figure, save_figure
    from hrl.envs.city import CityNavigation

    figure = new_figure(9.0, 3.0)
    env = CityNavigation(study.city)
    axes = figure.add_subplot(1, 2, 1)
    axes.imshow(np.concatenate([env.view(5, k) for k in range(0, 16, 4)], 1))
    axes.set_title("city A: views at one node, 4 headings")
    axes.axis("off")
    axes = figure.add_subplot(1, 2, 2)
    for phase, colour in (("A", "tab:blue"), ("transfer", "tab:green"), ("scratch", "tab:red")):
        for seed in seeds:
            rows = cache["runs"][f"{phase}/{seed}"]["curve"]
            axes.plot(
                [r["steps"] for r in rows],
                [r["goals per 1000 steps"] for r in rows],
                color=colour,
                label=phase if seed == seeds[0] else None,
            )
    axes.set_xlabel("training steps")
    axes.set_ylabel("goals / 1000 steps")
    axes.legend(fontsize=7)
    save_figure(figure, out / "city_navigation.png")


def city(options: Any) -> list[Any]:
    """``reproduce hrl --only city`` at ``options.scale`` (`SMOKE` or `FULL`)."""
    return run_city_study(options, SMOKE if options.scale == "smoke" else FULL)
