"""The social-influence study (``reproduce hrl --only social``): influence-motivated agents vs A2C.

Jaques et al. (ICML 2019), the model-of-other-agents variant: independent A2C agents on Harvest and
Cleanup (`hrl.envs.ssd`), with (β > 0) and without (β = 0) the social-influence reward computed from
each agent's own MOA (`hrl.multiagent.a2c.SocialA2C`). Reported per game and condition, mean ± sd over
seeds: the final collective return (environment reward summed over agents, averaged over the last
``final_episodes`` episodes, the paper's "final collective reward"), equality (1 - Gini of the apples
eaten), sustainability, zaps and cleans per episode, the mean influence reward and the MOA's accuracy.
A learning-curve table (collective return per block of episodes) and a figure come with it.

The paper's finding: influence-motivated agents reach a higher collective return than A3C agents on
both games (its Table 1 and Figure 6; 5 agents, conv-LSTM A3C agents, about 3 x 10^8 steps); its
numbers as we recall them (not checked against the paper) are in ``PAPER``.

Budgets: `SMOKE` (minutes on one core), `FULL` (hours stated in its docstring).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from hrl.multiagent.config import SocialConfig

__all__ = ["FULL", "PAPER", "SMOKE", "SocialStudy", "run_social_study", "social"]

PAPER = {
    ("harvest", "a2c"): "485 (A3C)",
    ("harvest", "influence"): "1119 (influence, MOA)",
    ("cleanup", "a2c"): "89 (A3C)",
    ("cleanup", "influence"): "167 (influence, MOA)",
}
"""The paper's final collective rewards (Table 1, 5 agents) as we recall them: not checked against the
paper, and not comparable in scale (longer episodes, more agents and steps); the ordering is the finding."""


@dataclass(frozen=True)
class SocialStudy:
    """Budget of the study.

    Attributes:
        games: ``"harvest"``, ``"cleanup"``.
        influence_weight: β of the influence condition (the baseline has β = 0).
        seeds: runs per game and condition (seeds ``options.seed + i``).
        final_episodes: episodes averaged for the final numbers.
        curve_block: episodes per point of the learning curve.
        agent: the agents' shared settings (``env``, ``influence_weight``, ``seed`` set per run).
    """

    games: tuple[str, ...] = ("harvest", "cleanup")
    influence_weight: float = 30.0
    seeds: int = 2
    final_episodes: int = 25
    curve_block: int = 25
    agent: SocialConfig = field(
        default_factory=lambda: SocialConfig(n_agents=4, max_cycles=200, n_steps=50, total_timesteps=40_000)
    )


SMOKE = SocialStudy()
"""4 agents, 200-step episodes, 40 000 steps (200 episodes) per run, 2 seeds, 2 games x 2 conditions:
8 runs at about 600-1000 steps/s on one core of the shared machine, about 10 minutes."""

FULL = SocialStudy(
    seeds=5,
    final_episodes=100,
    curve_block=100,
    agent=SocialConfig(n_agents=4, max_cycles=1000, n_steps=100, total_timesteps=5_000_000),
)
"""1000-step episodes (the paper's length), 5 x 10^6 steps per run, 5 seeds: 20 runs of about 2 hours
each at 700 steps/s on one core, about 40 CPU hours (not run). The paper's 3 x 10^8 steps per run
would be about 120 CPU hours per run here."""


def run_social_study(options: Any, study: SocialStudy) -> list[Any]:
    """Train both conditions on every game and seed; publish the final table, the curves and a figure."""
    import numpy as np

    from core.plots import new_figure, save_figure
    from core.results import ResultTable, mean_sd
    from hrl.multiagent.a2c import SocialA2C

    conditions = {"a2c": 0.0, "influence": study.influence_weight}
    rows, curves = [], []
    histories: dict[tuple[str, str], list[list[dict[str, Any]]]] = {}
    base = study.agent
    for game in study.games:
        for name, weight in conditions.items():
            runs = []
            for i in range(study.seeds):
                config = replace(base, env=game, influence_weight=weight, seed=options.seed + i)
                agent = SocialA2C(config)
                agent.learn()
                runs.append(agent.history)
            histories[(game, name)] = runs
            last = [h[-study.final_episodes :] for h in runs]

            def final(key: str, last: list = last, scale: float = 1.0) -> Any:
                return mean_sd(
                    [scale * float(np.mean([e[key] for e in h if e[key] is not None])) for h in last]
                )

            rows.append(
                {
                    "game": game,
                    "agents": name,
                    "beta": weight,
                    "collective return": final("collective_return"),
                    "equality": final("equality"),
                    "sustainability": final("sustainability"),
                    "zaps": final("zaps"),
                    "cleans": final("cleans"),
                    "influence (millinats)": final("influence", scale=1000.0),
                    "MOA accuracy": final("moa_accuracy"),
                    "paper (recalled, unchecked)": PAPER[(game, name)],
                }
            )
            episodes = min(len(h) for h in runs)
            for start in range(0, episodes, study.curve_block):
                block = [
                    np.mean([e["collective_return"] for e in h[start : start + study.curve_block]])
                    for h in runs
                ]
                curves.append(
                    {
                        "game": game,
                        "agents": name,
                        "episodes": f"{start + 1}-{min(start + study.curve_block, episodes)}",
                        "collective return": mean_sd(block),
                    }
                )
    notes = (
        f"{base.n_agents} independent A2C agents (MLP {base.hidden}, lr {base.learning_rate}, n-step "
        f"{base.n_steps}, gamma {base.gamma}, entropy {base.ent_coef}), {base.max_cycles}-step episodes, "
        f"{base.total_timesteps} steps per run, {study.seeds} seeds from {options.seed}; influence: beta "
        f"{study.influence_weight} x the MOA influence reward (nats). Final = mean of the last "
        f"{study.final_episodes} episodes; collective return = apples - zap costs; equality = 1 - Gini of apples."
    )
    table = ResultTable(
        name="social_influence",
        rows=rows,
        title="Social influence (MOA) vs A2C on Harvest and Cleanup: final collective return and equality",
        notes=notes,
        data="hrl.envs.ssd Harvest and Cleanup (procedural, written here)",
    )
    options.publish(table)
    curve = ResultTable(
        name="social_influence_curves",
        rows=curves,
        title="Collective return per block of episodes (mean ± sd over seeds)",
        notes=notes,
        data=table.data,
    )
    options.publish(curve)
    figure = new_figure(4.0 * len(study.games), 3.4)
    for g, game in enumerate(study.games):
        axes = figure.add_subplot(1, len(study.games), g + 1)
        for name in conditions:
            runs = histories[(game, name)]
            episodes = min(len(h) for h in runs)
            values = np.array([[e["collective_return"] for e in h[:episodes]] for h in runs])
            width = max(1, study.curve_block // 2)
            kernel = np.ones(width) / width
            smooth = np.array([np.convolve(v, kernel, mode="valid") for v in values])
            axes.plot(np.arange(smooth.shape[1]) + width, smooth.mean(0), label=name)
        axes.set_title(game)
        axes.set_xlabel("episode")
        axes.set_ylabel("collective return")
        axes.legend()
    save_figure(figure, Path(options.out) / "social_influence_curves.png")
    return [table, curve]


def social(options: Any) -> list[Any]:
    """``reproduce hrl --only social`` at ``options.scale`` (`SMOKE` or `FULL`)."""
    return run_social_study(options, SMOKE if options.scale == "smoke" else FULL)
