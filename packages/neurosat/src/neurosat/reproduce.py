"""Headline experiment (``reproduce neurosat``): train on SR(U(a, b)), classify and decode SR(n) test
pairs, accuracy/decoding against rounds, scaling to larger n with more rounds, and reductions.

``--scale smoke`` trains a small model (d=32, 8 rounds) on SR(U(3, 10)) for a few minutes of CPU and
evaluates on small problems; ``--scale full`` uses the paper's settings (d=128, 26 rounds, SR(U(10,
40)), Adam 2e-5, 12,000-node batches; 100,000 training pairs and 50 epochs are our choice) and
needs a GPU: one epoch is about 2,800 steps of 12,000 nodes, and one step took 57 s on the shared
2-core CPU of the benchmark, i.e. about 45 hours per epoch on CPU.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch

from core.cli import RunOptions
from core.device import pick_device, torch_threads
from core.plots import new_figure, save_figure
from core.results import ResultTable
from core.timing import Timer
from neurosat.config import NeuroSATConfig, TrainConfig
from neurosat.evaluation import random_assignment_baseline, round_curves
from neurosat.model import NeuroSAT
from neurosat.reductions import REDUCTIONS, graph_problems
from neurosat.sr import generate_sr
from neurosat.train import fit

__all__ = ["SETTINGS", "ExperimentSettings", "reproduce"]


@dataclass(frozen=True)
class ExperimentSettings:
    """Sizes of one scale of the headline experiment."""

    model: NeuroSATConfig
    train: TrainConfig
    train_vars: tuple[int, int]
    train_pairs: int
    test_vars: int
    test_pairs: int
    round_curve_rounds: int
    scaling: tuple[tuple[int, tuple[int, ...]], ...]
    scaling_pairs: int
    reduction_problems: int
    reduction_rounds: int
    generation_jobs: int = 2  # joblib workers for SR generation (-1: all cores)


SETTINGS: dict[str, ExperimentSettings] = {
    "smoke": ExperimentSettings(
        model=NeuroSATConfig(d=32, rounds=8, mlp_layers=3),
        train=TrainConfig(epochs=8, learning_rate=1e-3, max_nodes=2_500, rounds=None, seed=0),
        train_vars=(3, 10),
        train_pairs=4_000,
        test_vars=10,
        test_pairs=200,
        round_curve_rounds=32,
        scaling=((20, (8, 32, 64)), (40, (8, 32, 64))),
        scaling_pairs=100,
        reduction_problems=40,
        reduction_rounds=32,
    ),
    "full": ExperimentSettings(
        model=NeuroSATConfig(),
        train=TrainConfig(epochs=50),
        train_vars=(10, 40),
        train_pairs=100_000,
        test_vars=40,
        test_pairs=5_000,
        round_curve_rounds=200,
        scaling=(
            (80, (26, 200, 1000)),
            (120, (26, 200, 1000)),
            (160, (26, 200, 1000)),
            (200, (26, 200, 1000)),
        ),
        scaling_pairs=500,
        reduction_problems=500,
        reduction_rounds=200,
        generation_jobs=-1,
    ),
}


def reproduce(options: RunOptions) -> list[ResultTable]:
    """Run the experiment at ``options.scale``; write a rounds plot into ``options.out``."""
    settings = SETTINGS[options.scale]
    device = pick_device(options.device)
    if options.scale == "smoke" and device.type == "cpu":
        # d=32 matrices are too small for intra-op parallelism to pay; one thread avoids
        # OpenMP spinning when the cores are shared.
        with torch_threads(1):
            return _run(settings, options, device)
    return _run(settings, options, device)


def _run(settings: ExperimentSettings, options: RunOptions, device: torch.device) -> list[ResultTable]:
    seed = options.seed
    n_jobs = settings.generation_jobs
    with Timer() as gen_timer:
        train_set = generate_sr(settings.train_pairs, *settings.train_vars, seed=seed, n_jobs=n_jobs)
        test_set = generate_sr(settings.test_pairs, settings.test_vars, seed=seed + 1, n_jobs=n_jobs)
    model = NeuroSAT(settings.model, generator=torch.Generator().manual_seed(seed))
    with Timer() as train_timer:
        history = fit(
            model, train_set, settings.train, checkpoint=options.out / "checkpoint.safetensors", device=device
        )
    model.save(options.out / "model.safetensors")
    t_train = settings.model.rounds

    train_data = f"SR(U{settings.train_vars}) training pairs generated with seed {seed}"
    test_data = f"{settings.test_pairs} SR({settings.test_vars}) pairs generated with seed {seed + 1}"
    curves = round_curves(model, test_set, settings.round_curve_rounds, device=device)
    main = ResultTable(
        "classification",
        data=f"{test_data}; model trained on {settings.train_pairs} {train_data}",
        title=f"NeuroSAT on SR({settings.test_vars}) test pairs ({options.scale})",
        notes=(
            f"Trained on {settings.train_pairs} SR(U{settings.train_vars}) pairs, {settings.train.epochs} epochs, "
            f"d={settings.model.d}, T={t_train}; generation {gen_timer.seconds:.0f}s, training "
            f"{train_timer.seconds:.0f}s on {device}. Final train loss {history.loss[-1]:.3f}. "
            "'decoded' = share of SAT test formulas with a verified assignment (2-means or vote decoding, "
            "checked after every round up to the row's rounds); 'decoded_by_random_guesses' = share solved by as many "
            "uniform random assignments as the decoders checked (4 per round). Paper (SR(40), d=128, T=26): 85% accuracy, 70% decoded."
        ),
    )
    for rounds in (t_train, int(curves.rounds[-1])):
        main.add(
            test=f"SR({settings.test_vars})",
            problems=len(test_set),
            rounds=rounds,
            accuracy=float(curves.accuracy[rounds - 1]),
            accuracy_chance=0.5,
            decoded_sat=float(curves.decoded_by[rounds - 1]),
            decoded_by_random_guesses=random_assignment_baseline(test_set, 4 * rounds, seed=seed),
        )
    options.publish(main)
    best = int(curves.accuracy.argmax())
    rounds_table = ResultTable(
        "rounds",
        data=test_data,
        title=f"Accuracy and decoding against rounds, SR({settings.test_vars})",
        notes=f"Best accuracy {curves.accuracy[best]:.3f} at round {curves.rounds[best]}. Plot: rounds.png.",
    )
    for t in sorted(
        {1, 2, 4, t_train, 2 * t_train, settings.round_curve_rounds} & set(curves.rounds.tolist())
    ):
        i = t - 1
        rounds_table.add(
            rounds=t,
            accuracy=float(curves.accuracy[i]),
            decoded_at_round=float(curves.decoded[i]),
            decoded_by_round=float(curves.decoded_by[i]),
        )
    _plot_rounds(curves, t_train, settings.test_vars, options)
    options.publish(rounds_table)

    scaling = ResultTable(
        "scaling",
        data=(
            f"{settings.scaling_pairs} SR(n) pairs per n in {[n for n, _ in settings.scaling]}, "
            f"generated with seed {seed} + 100 + n"
        ),
        title="Larger problems with more rounds",
        notes=f"{settings.scaling_pairs} SR(n) pairs per size; model trained with T={t_train}.",
    )
    for n, rounds_list in settings.scaling:
        problems = generate_sr(settings.scaling_pairs, n, seed=seed + 100 + n, n_jobs=n_jobs)
        curves_n = round_curves(model, problems, max(rounds_list), device=device)
        for rounds in rounds_list:
            scaling.add(
                test=f"SR({n})",
                rounds=rounds,
                accuracy=float(curves_n.accuracy[rounds - 1]),
                decoded_sat=float(curves_n.decoded_by[rounds - 1]),
                decoded_by_random_guesses=random_assignment_baseline(problems, 4 * rounds, seed=seed),
            )
    options.publish(scaling)

    reductions = ResultTable(
        "reductions",
        data=f"{settings.reduction_problems} generated graph problems per family, seed {seed + 7}",
        title="Graph problems reduced to SAT (never seen in training)",
        notes=(
            "Erdős–Rényi graphs G(n, 0.37) with n ~ U(6, 10), k from the family's range; "
            f"balanced SAT/UNSAT labels from CaDiCaL; {settings.reduction_rounds} rounds."
        ),
    )
    for kind in REDUCTIONS:
        problems = graph_problems(kind, settings.reduction_problems, seed=seed + 7)
        curves_k = round_curves(model, problems, settings.reduction_rounds, device=device)
        reductions.add(
            family=kind,
            problems=len(problems),
            mean_vars=sum(p.n_vars for p in problems) / len(problems),
            accuracy=float(curves_k.accuracy[-1]),
            decoded_sat=float(curves_k.decoded_by[-1]),
            decoded_by_random_guesses=random_assignment_baseline(
                problems, 4 * settings.reduction_rounds, seed=seed
            ),
        )
    options.publish(reductions)
    settings_table = ResultTable(
        "settings",
        title="Settings",
        data=train_data,
        rows=[
            {f"model.{k}": v for k, v in asdict(settings.model).items()}
            | {f"train.{k}": v for k, v in asdict(settings.train).items()}
            | {"train_set": f"{settings.train_pairs} SR(U{settings.train_vars}) pairs"}
        ],
    )
    options.publish(settings_table)
    return [main, rounds_table, scaling, reductions, settings_table]


def _plot_rounds(curves, t_train: int, n: int, options: RunOptions) -> None:
    fig = new_figure(6, 4)
    ax = fig.add_subplot()
    ax.plot(curves.rounds, curves.accuracy, label="classification accuracy")
    ax.plot(curves.rounds, curves.decoded_by, label="SAT formulas decoded (by round t)")
    ax.axvline(t_train, color="grey", linestyle=":", label=f"training rounds T={t_train}")
    ax.axhline(0.5, color="black", linewidth=0.5)
    ax.set_xlabel("message-passing rounds")
    ax.set_ylabel("fraction")
    ax.set_ylim(0, 1)
    ax.set_title(f"NeuroSAT on SR({n}) ({options.scale})")
    ax.legend(loc="lower right")
    save_figure(fig, options.out / "rounds.png", dpi=120)
