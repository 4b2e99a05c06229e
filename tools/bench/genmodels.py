"""Benchmark: training throughput of World Models' V and M, and CMA-ES rollouts per second.

Each figure is measured twice in the same run: through this package (`fit_vae` / `fit_memory` on the
shared resumable loop, `cmaes.evolve` with joblib workers) and through a straightforward reference a
user would write without it (a plain PyTorch loop over the same model, data and optimiser; a plain
`cma.CMAEvolutionStrategy` ask/tell loop calling the fitness in this process). The ratio says what
the package's loop costs (checkpointing off, evaluation off) or saves (workers). Times are medians
of `core.timing.measure`.

    uv run python tools/bench/genmodels.py [--frames 256] [--episode-steps 50] [--out runs/bench]
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import sys
from pathlib import Path

# this file is named like the package it benchmarks: keep its folder off the import path
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != Path(__file__).resolve().parent]

import numpy as np  # noqa: E402
import torch  # noqa: E402

from core.cli import output_folder, positive_int  # noqa: E402
from core.provenance import provenance  # noqa: E402
from core.results import ResultTable  # noqa: E402
from core.timing import measure  # noqa: E402
from genmodels.config import CMAConfig, MDNRNNConfig, MemoryRunConfig, TrainConfig, WorldModelsConfig  # noqa: E402
from genmodels.data import ImageSet  # noqa: E402
from genmodels.vae.bounds import elbo  # noqa: E402
from genmodels.vae.networks import build_vae  # noqa: E402
from genmodels.vae.objectives import Objective  # noqa: E402
from genmodels.vae.training import fit_vae  # noqa: E402
from genmodels.world_models.memory import MDNRNN, Sequences, fit_memory, memory_loss  # noqa: E402


def _frames(n: int) -> ImageSet:
    rng = np.random.default_rng(0)
    return ImageSet(rng.random((n, 3, 64, 64), dtype=np.float32), None, "uniform noise frames")


def vision_rows(frames: int, batch: int) -> list[dict]:
    data = _frames(frames)
    base = WorldModelsConfig().vision
    config = type(base)(
        base.model, base.objective, TrainConfig(epochs=1, batch_size=batch, learning_rate=1e-4)
    )

    def package() -> None:
        fit_vae(data, config)

    def reference() -> None:
        torch.manual_seed(0)
        model = build_vae(config.model)
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
        objective = Objective(config.objective)
        x = data.tensor()
        for step, start in enumerate(range(0, frames - batch + 1, batch)):
            loss, _ = objective(elbo(model, x[start : start + batch]), step + 1)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

    used = (frames // batch) * batch
    ours, peer = measure(package, repeats=3), measure(reference, repeats=3)
    return [
        {
            "what": "V training (frames/s)",
            "genmodels": ours.per_second(used),
            "reference loop": peer.per_second(used),
            "ratio": peer.median / ours.median,
        },
    ]


def memory_rows(sequences: int, length: int, batch: int) -> list[dict]:
    generator = torch.Generator().manual_seed(0)
    mean = torch.randn(sequences, length + 1, 32, generator=generator)
    data = Sequences(
        mean,
        torch.full_like(mean, -4.0),
        torch.rand(sequences, length, 3, generator=generator),
        torch.zeros(sequences, length),
        torch.zeros(sequences, length),
    )
    config = MemoryRunConfig(MDNRNNConfig(), TrainConfig(epochs=1, batch_size=batch), length)

    def package() -> None:
        fit_memory(data, config)

    def reference() -> None:
        torch.manual_seed(0)
        model = MDNRNN(config.model)
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        for start in range(0, sequences, batch):
            index = torch.arange(start, min(sequences, start + batch))
            batch_data = Sequences(
                *(getattr(data, k)[index] for k in ("mean", "log_var", "actions", "rewards", "done"))
            )
            loss, _ = memory_loss(model, batch_data, None)
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()

    ours, peer = measure(package, repeats=3), measure(reference, repeats=3)
    return [
        {
            "what": f"M training (sequences of {length}/s)",
            "genmodels": ours.per_second(sequences),
            "reference loop": peer.per_second(sequences),
            "ratio": peer.median / ours.median,
        },
    ]


def _rollout_fitness(params: np.ndarray, seeds: list[int], steps: int) -> float:
    """A CarRacing-v3 rollout driven by a linear map of the 64x64 frame's mean colour (no V/M: env cost only)."""
    from genmodels.world_models.env import CarRacing

    total = 0.0
    for seed in seeds:
        env = CarRacing(max_steps=steps)
        frame, _ = env.reset(seed=seed)
        while True:
            features = frame.mean(axis=(1, 2))
            action = np.tanh(params[:9].reshape(3, 3) @ features + params[9:])
            frame, reward, terminated, truncated, _ = env.step(
                np.array([action[0], (action[1] + 1) / 2, max(0.0, action[2])])
            )
            total += reward
            if terminated or truncated:
                break
        env.close()
    return total / len(seeds)


def cma_rows(population: int, steps: int) -> list[dict]:
    import cma

    from genmodels.world_models.cmaes import evolve

    fitness = functools.partial(_rollout_fitness, steps=steps)
    rows = []

    def reference() -> None:
        strategy = cma.CMAEvolutionStrategy(
            np.zeros(12), 0.1, {"popsize": population, "seed": 1, "verbose": -9}
        )
        candidates = strategy.ask()
        strategy.tell(candidates, [-fitness(np.asarray(x), [0]) for x in candidates])

    peer = measure(reference, repeats=1, warmup=1)
    for workers in sorted({1, os.cpu_count() or 1}):
        config = CMAConfig(population=population, rollouts=1, generations=1, workers=workers)
        ours = measure(lambda config=config: evolve(fitness, 12, config), repeats=1, warmup=1)
        rows.append(
            {
                "what": f"CMA-ES rollouts/s ({steps}-step CarRacing-v3 episodes), {workers} worker(s)",
                "genmodels": ours.per_second(population),
                "reference loop": peer.per_second(population),
                "ratio": peer.median / ours.median,
            }
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=positive_int, default=256, help="V training frames (default: 256)")
    parser.add_argument(
        "--sequences", type=positive_int, default=64, help="M training sequences (default: 64)"
    )
    parser.add_argument("--population", type=positive_int, default=8, help="CMA-ES population (default: 8)")
    parser.add_argument(
        "--episode-steps", type=positive_int, default=50, help="steps per rollout (default: 50)"
    )
    parser.add_argument("--out", type=output_folder, default=Path("runs/bench"))
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    rows = (
        vision_rows(args.frames, 32)
        + memory_rows(args.sequences, 100, 16)
        + cma_rows(args.population, args.episode_steps)
    )
    table = ResultTable(
        "genmodels_bench",
        rows=rows,
        title="genmodels throughput against a straightforward reference loop (same run, one torch thread)",
        notes="ratio = reference seconds / genmodels seconds (> 1: genmodels faster). CPU: "
        f"{os.cpu_count()} cores.",
        data="uniform-noise frames and sequences (V, M); CarRacing-v3 tracks 0.. (CMA-ES)",
    )
    print(table.to_markdown())
    path = table.save(args.out, provenance=provenance(package="genmodels"))
    print(f"written: {path}")
    json.loads(path.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
