"""CMA-ES over controller parameters through the `cma` package, candidates evaluated by joblib workers.

World Models evolved C with CMA-ES (Hansen 2016): population 64, each candidate scored by the mean
return of 16 rollouts, the best mean kept. `evolve` runs that loop for any fitness function
``fitness(params, seeds) -> mean return`` (maximised), with resumable checkpoints: the
`cma.CMAEvolutionStrategy` object is pickled into a uint8 tensor (its own state is far richer than
its mean and covariance), so a killed run continues exactly; ``generations`` is extendable.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.errors import InputError
from genmodels.config import CMAConfig

__all__ = ["CMAConfig", "CMAResult", "evolve"]

Fitness = Callable[[np.ndarray, list[int]], float]


@dataclass
class CMAResult:
    """The best candidate seen (by its mean over its rollouts) and one history row per generation."""

    best_params: np.ndarray
    best_fitness: float
    history: list[dict[str, float]]


def evolve(
    fitness: Fitness,
    dimension: int,
    config: CMAConfig,
    *,
    checkpoint: str | Path | None = None,
    x0: np.ndarray | None = None,
) -> CMAResult:
    """Maximise `fitness` over R^dimension with CMA-ES; resume from `checkpoint` when it exists.

    Args:
        fitness: ``fitness(params (dimension,), seeds) -> mean return``; must be picklable
            (a module-level function or a `functools.partial` of one) when ``config.workers > 1``.
        dimension: number of parameters.
        x0: the initial mean (zeros by default).

    Generation g's candidates are scored on the seeds
    ``seed_base + g * rollouts + [0 .. rollouts)`` (the same tracks for every candidate of a
    generation, fresh tracks each generation).
    """
    import cma
    import torch
    from joblib import Parallel, delayed

    from core.checkpoint import load_checkpoint, save_checkpoint

    if dimension < 1:
        raise InputError("dimension must be >= 1", item=dimension)
    path = Path(checkpoint) if checkpoint is not None else None
    history: list[dict[str, float]] = []
    best_params, best_fitness = np.zeros(dimension), -np.inf
    if path is not None and path.exists():
        saved = load_checkpoint(path, CMAConfig, resume=config)
        strategy = pickle.loads(saved.state["strategy"].numpy().tobytes())
        best_params = saved.state["best_params"].numpy().astype(np.float64)
        best_fitness, history = saved.extra["best_fitness"], saved.extra["history"]
    else:
        start = np.zeros(dimension) if x0 is None else np.asarray(x0, np.float64)
        options = {"popsize": config.population, "seed": config.seed + 1, "verbose": -9}
        strategy = cma.CMAEvolutionStrategy(start, config.sigma0, options)
    workers = Parallel(n_jobs=config.workers) if config.workers > 1 else None
    for generation in range(len(history), config.generations):
        candidates = strategy.ask()
        base = config.seed_base + generation * config.rollouts
        seeds = list(range(base, base + config.rollouts))
        if workers is None:
            scores = [fitness(np.asarray(x), seeds) for x in candidates]
        else:
            scores = workers(delayed(fitness)(np.asarray(x), seeds) for x in candidates)
        strategy.tell(candidates, [-float(s) for s in scores])  # cma minimises
        best = int(np.argmax(scores))
        if scores[best] > best_fitness:
            best_fitness, best_params = float(scores[best]), np.asarray(candidates[best], np.float64)
        history.append(
            {
                "generation": generation + 1,
                "best": float(np.max(scores)),
                "mean": float(np.mean(scores)),
                "worst": float(np.min(scores)),
                "sigma": float(strategy.sigma),
                "best_so_far": best_fitness,
            }
        )
        if path is not None:
            state = {
                "strategy": torch.frombuffer(bytearray(pickle.dumps(strategy)), dtype=torch.uint8),
                "best_params": torch.as_tensor(best_params),
            }
            save_checkpoint(path, state, config, extra={"best_fitness": best_fitness, "history": history})
    return CMAResult(best_params, best_fitness, history)
