"""Progress & Compress on a MiniGrid task sequence (``reproduce hrl --only pc-minigrid``).

Schwarz et al. (ICML 2018) in their RL setting at small scale (`hrl.continual.minigrid_sequence`):
a sequence of MiniGrid tasks under one shared partial-observation encoding, each learnt by PPO with
the same budget, with fine-tuning, EWC, online EWC, P&C (active column with laterals; compress by
distillation + online EWC) and a fresh actor-critic per task (the upper bound without forgetting).
Reported per method, mean ± sd over seeds: ACC (mean return over all tasks after the last), LA
(just-learned return), BTI (forgetting), forward transfer (LA minus the per-task network's LA) and,
for P&C, its active column's just-learned return and transfer; the uniform-random policy's return
per task for scale; the return on every task after each task (first seed) and its figure. The
paper's finding (Atari, 3-D navigation; its numbers are not in the issue or notes, so none are
quoted): P&C forgets about as little as online EWC while its active column learns new tasks at
least as well as a fresh network.

Budgets: `SMOKE` (3 tasks, 25 000 PPO steps each, 2 seeds) and `FULL` (5 tasks, 100 000 steps each,
5 seeds; hours in its docstring). Every run is checkpointed after each task under
``OUT/checkpoints/pc-minigrid/`` and resumed from there.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from hrl.continual.minigrid_sequence import MiniGridSequenceConfig

__all__ = ["FULL", "SMOKE", "MiniGridStudy", "run_minigrid_study"]


@dataclass(frozen=True)
class MiniGridStudy:
    """Budget of the study: the learners' shared settings (``method`` and ``seed`` set per run) and
    the number of seeds (``options.seed + i``)."""

    learner: MiniGridSequenceConfig = field(
        default_factory=lambda: MiniGridSequenceConfig(steps_per_task=25_000)
    )
    seeds: int = 2


SMOKE = MiniGridStudy()
"""Empty-5x5, LavaGap-S5, DoorKey-5x5; 25 000 PPO steps per task (8 envs x 128 steps, 4 epochs),
64-64 tanh actor-critic, 6 actions; lambda 100 (EWC, online EWC, P&C's compress); 2 seeds: measured
wall time in the README."""

FULL = MiniGridStudy(
    learner=MiniGridSequenceConfig(
        tasks=(
            "MiniGrid-Empty-5x5-v0",
            "MiniGrid-LavaGapS5-v0",
            "MiniGrid-DoorKey-5x5-v0",
            "MiniGrid-LavaGapS6-v0",
            "MiniGrid-DoorKey-6x6-v0",
        ),
        steps_per_task=100_000,
        eval_episodes=50,
    ),
    seeds=5,
)
"""5 tasks (adding LavaGap-S6 and DoorKey-6x6), 100 000 steps each, 50 evaluation episodes, 5 seeds:
500 000 PPO steps per run, 25 runs: 16.7x the smoke's 750 000 steps, which took 19 min on the
shared 2-core machine, so about 5.5 hours on one core (an estimate; not run)."""


def run_minigrid_study(options: Any, study: MiniGridStudy) -> list[Any]:
    """Every method on every seed (checkpointed per task); publish the summary, the first seed's
    return matrices and their figure (``pc_minigrid.png``)."""
    from pathlib import Path

    from core.progress import progress
    from core.results import ResultTable, mean_sd
    from hrl.continual.minigrid_sequence import MINIGRID_METHODS, random_returns, train_minigrid_sequence
    from hrl.experiments.continual import plot_task_accuracies, run_scores, transfer_row

    base = study.learner
    folder = Path(options.out) / "checkpoints" / "pc-minigrid"
    runs: dict[tuple[int, str], Any] = {}
    jobs = [(i, m) for i in range(study.seeds) for m in MINIGRID_METHODS]
    for i, method in progress(jobs, desc="pc-minigrid runs"):
        config = replace(base, method=method, seed=options.seed + i)
        runs[(i, method)] = train_minigrid_sequence(
            config, checkpoint=folder / f"{method}-seed{options.seed + i}.safetensors"
        )
    scores = run_scores(runs, MINIGRID_METHODS, study.seeds)
    names = {"finetune": "fine-tuning", "pc": "P&C (KB)", "independent": "network per task"}
    rows = []
    for method in MINIGRID_METHODS:
        row = transfer_row(names.get(method, method), scores[method])
        row["AC LA - KB LA (compress loss)"] = (
            mean_sd([s["compress_gap"] for s in scores[method]]) if method == "pc" else "-"
        )
        rows.append(row)
    chance = random_returns(base.tasks, base.actions, base.eval_episodes)
    short = [t.removeprefix("MiniGrid-").removesuffix("-v0") for t in base.tasks]
    notes = (
        f"Tasks {', '.join(short)}; {base.steps_per_task} PPO steps each ({base.ppo.n_envs} envs x "
        f"{base.ppo.n_steps} steps, {base.ppo.n_epochs} epochs, minibatch {base.ppo.batch_size}, lr "
        f"{base.ppo.learning_rate}, entropy {base.ppo.ent_coef}, gamma {base.ppo.gamma}), tanh actor-critic "
        f"{base.ppo.hidden}, {base.actions} actions; EWC / online EWC lambda {base.ewc_lambda}, gamma "
        f"{base.ewc_gamma}, Fisher of the policy ({base.fisher_labels} actions) on the last "
        f"{base.fisher_states} visited states; P&C compress: {base.compress_epochs} epochs of Adam (lr "
        f"{base.compress_lr}) on the last {base.compress_states} visited states, temperature "
        f"{base.distill_temperature}, lambda {base.compress_lambda}; {study.seeds} seeds from {options.seed}. "
        f"Return: mean over {base.eval_episodes} seeded deterministic episodes; the random policy's: "
        + ", ".join(f"{t} {r:.3f}" for t, r in zip(short, chance, strict=True))
        + ". Forward transfer: just-learned return minus a fresh network's on the same task."
    )
    table = ResultTable(
        name="pc_minigrid",
        rows=rows,
        title="MiniGrid sequence (PPO): P&C vs fine-tuning, EWC, online EWC, a network per task",
        notes=notes,
        data="MiniGrid (minigrid package), " + ", ".join(base.tasks),
    )
    options.publish(table)
    matrix = ResultTable(
        name="pc_minigrid_per_task",
        rows=[
            {
                "method": names.get(method, method),
                "after task": t,
                **{short[j]: float(v) for j, v in enumerate(row)},
                "AC just after progress": float(runs[(0, method)].active[t]) if method == "pc" else "-",
            }
            for method in MINIGRID_METHODS
            for t, row in enumerate(runs[(0, method)].result)
        ],
        title=f"MiniGrid sequence: mean return on every task after each task (seed {options.seed})",
        notes=notes,
        data=table.data,
    )
    options.publish(matrix)
    matrices = {names.get(m, m): runs[(0, m)].result for m in MINIGRID_METHODS}
    plot_task_accuracies(matrices, Path(options.out) / "pc_minigrid.png", matrix.title, ylabel="mean return")
    return [table, matrix]


def pc_minigrid(options: Any) -> list[Any]:
    """``reproduce hrl --only pc-minigrid`` at ``options.scale`` (`SMOKE` or `FULL`)."""
    return run_minigrid_study(options, SMOKE if options.scale == "smoke" else FULL)
