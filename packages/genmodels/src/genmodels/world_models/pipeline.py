"""World Models as separate, resumable stages, each leaving its result in one run folder.

``collect`` (random-policy episodes, `rollouts`) -> ``train_vision`` (V, ``vision.safetensors``)
-> ``encode`` (V's q(z|x) of every frame, ``latents.npz``) -> ``train_memory`` (M,
``memory.safetensors``) -> ``train_controller`` (C by CMA-ES in the real environment or in the
dream, ``controller-<name>.safetensors``) -> ``evaluate`` (returns over fresh tracks). Each stage
reads what the previous ones wrote, skips work already on disk and resumes a killed run from its
checkpoint, so ``reproduce`` or a user can stop and restart the pipeline at any point.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import numpy as np

from core.errors import InputError
from genmodels.config import CMAConfig, WorldModelsConfig
from genmodels.world_models.agent import Inputs

__all__ = [
    "collect",
    "encode",
    "evaluate",
    "frames_of",
    "sequences_of",
    "train_controller",
    "train_memory",
    "train_vision",
]


def collect(folder: str | os.PathLike[str], config: WorldModelsConfig, seed: int = 0) -> list[Path]:
    """Stage 1: ``config.episodes`` random-policy episodes into ``folder/rollouts``."""
    from genmodels.world_models.rollouts import collect_random_rollouts

    return collect_random_rollouts(
        Path(folder) / "rollouts",
        config.episodes,
        max_steps=config.max_steps,
        seed=seed,
        workers=config.collect_workers,
    )


def frames_of(folder: str | os.PathLike[str], held_out: int = 0):
    """Every collected frame as ImageSets ``(train, test)``: the last `held_out` episodes are the test set."""
    from genmodels.data import ImageSet
    from genmodels.world_models.rollouts import load_episodes

    episodes = load_episodes(Path(folder) / "rollouts")
    if held_out >= len(episodes):
        raise InputError("held_out must leave training episodes", item=f"{held_out} of {len(episodes)}")
    cut = len(episodes) - held_out

    def stack(chosen, name):
        frames = np.concatenate([e.frames for e in chosen]) if chosen else np.zeros((0, 64, 64, 3), np.uint8)
        images = np.ascontiguousarray(np.moveaxis(frames, -1, 1), dtype=np.float32) / 255.0
        return ImageSet(images, None, f"CarRacing-v3 random-policy frames ({name}: {len(chosen)} episodes)")

    return stack(episodes[:cut], "train"), stack(episodes[cut:], "held-out")


def train_vision(folder: str | os.PathLike[str], config: WorldModelsConfig, held_out: int = 0, device=None):
    """Stage 2: V on the collected frames (checkpoint ``folder/vision.safetensors``); returns the `VAERun`."""
    from genmodels.vae.training import fit_vae

    train, test = frames_of(folder, held_out)
    return fit_vae(
        train,
        config.vision,
        test=test if len(test) else None,
        checkpoint=Path(folder) / "vision.safetensors",
        device=device,
    )


def encode(folder: str | os.PathLike[str]) -> Path:
    """Stage 3: mean and log-variance of V's q(z | x) for every frame, with the episodes' actions,
    rewards and done flags, into ``folder/latents.npz`` (one entry per episode); first-frame codes into
    ``folder/starts.npy`` (the dream's starting points)."""
    import torch

    from core.checkpoint import load_checkpoint, load_state_into
    from genmodels.config import VAERunConfig
    from genmodels.vae.networks import build_vae
    from genmodels.world_models.rollouts import load_episodes

    root = Path(folder)
    saved = load_checkpoint(root / "vision.safetensors", VAERunConfig)
    vision = build_vae(saved.config.model)
    load_state_into(vision, saved.state["model"], source=root / "vision.safetensors")
    vision.eval()
    arrays: dict[str, np.ndarray] = {}
    starts = []
    with torch.no_grad():
        for index, episode in enumerate(load_episodes(root / "rollouts")):
            frames = torch.from_numpy(np.moveaxis(episode.frames, -1, 1).astype(np.float32) / 255.0)
            mean, log_var = zip(*(vision.encode(frames[i : i + 256]) for i in range(0, len(frames), 256)))
            arrays[f"mean_{index}"] = torch.cat(mean).numpy()
            arrays[f"log_var_{index}"] = torch.cat(log_var).numpy()
            arrays[f"actions_{index}"] = episode.actions
            arrays[f"rewards_{index}"] = episode.rewards
            arrays[f"done_{index}"] = episode.done
            starts.append(arrays[f"mean_{index}"][0])
    from core.files import atomic_write

    atomic_write(root / "starts.npy", lambda tmp: np.save(open(tmp, "wb"), np.stack(starts)))
    return atomic_write(root / "latents.npz", lambda tmp: np.savez(open(tmp, "wb"), **arrays))


def sequences_of(folder: str | os.PathLike[str], length: int):
    """M's training windows: every episode cut into windows of `length` steps (a shorter tail is dropped,
    unless the episode is shorter than `length`)."""
    import torch

    from genmodels.world_models.memory import Sequences

    with np.load(Path(folder) / "latents.npz") as data:
        count = len([key for key in data if key.startswith("mean_")])
        parts: dict[str, list[np.ndarray]] = {
            "mean": [],
            "log_var": [],
            "actions": [],
            "rewards": [],
            "done": [],
        }
        for index in range(count):
            steps = len(data[f"actions_{index}"])
            window = min(length, steps)
            for start in range(0, steps - window + 1, window):
                parts["mean"].append(data[f"mean_{index}"][start : start + window + 1])
                parts["log_var"].append(data[f"log_var_{index}"][start : start + window + 1])
                for name in ("actions", "rewards", "done"):
                    parts[name].append(data[f"{name}_{index}"][start : start + window])
    window_lengths = {len(a) for a in parts["actions"]}
    if len(window_lengths) != 1:
        shortest = min(window_lengths)
        parts = {
            k: [a[: shortest + (1 if k in ("mean", "log_var") else 0)] for a in v] for k, v in parts.items()
        }
    return Sequences(
        *(
            torch.from_numpy(np.stack(parts[k]).astype(np.float32))
            for k in ("mean", "log_var", "actions", "rewards", "done")
        )
    )


def train_memory(folder: str | os.PathLike[str], config: WorldModelsConfig):
    """Stage 4: M on the encoded episodes (checkpoint ``folder/memory.safetensors``); returns ``(model, history)``."""
    from genmodels.world_models.memory import fit_memory

    sequences = sequences_of(folder, config.memory.sequence_length)
    return fit_memory(sequences, config.memory, checkpoint=Path(folder) / "memory.safetensors")


def train_controller(
    folder: str | os.PathLike[str],
    config: WorldModelsConfig,
    name: str,
    *,
    inputs: Inputs = "zh",
    dream_temperature: float | None = None,
):
    """Stage 5: C by CMA-ES, in the real environment (`dream_temperature` None) or in the dream at that tau.

    Checkpoint ``folder/controller-<name>.safetensors``; returns the `CMAResult`.
    """
    from genmodels.world_models.agent import controller_inputs, load_world_model, real_fitness
    from genmodels.world_models.cmaes import evolve
    from genmodels.world_models.dream import dream_fitness

    root = Path(folder)
    paths = {"vision_path": str(root / "vision.safetensors"), "memory_path": str(root / "memory.safetensors")}
    world = load_world_model(paths["vision_path"], paths["memory_path"])
    dimension = controller_inputs(world, inputs) * 3 + 3
    cma: CMAConfig = config.controller if dream_temperature is None else config.dream_controller
    if dream_temperature is None:
        fitness = functools.partial(real_fitness, **paths, inputs=inputs, max_steps=config.max_steps)
    else:
        fitness = functools.partial(
            dream_fitness,
            **paths,
            starts_path=str(root / "starts.npy"),
            inputs=inputs,
            temperature=dream_temperature,
            max_steps=config.max_steps,
        )
    return evolve(fitness, dimension, cma, checkpoint=root / f"controller-{name}.safetensors")


def evaluate(
    folder: str | os.PathLike[str],
    config: WorldModelsConfig,
    params: np.ndarray | None,
    *,
    inputs: Inputs = "zh",
    seeds: list[int],
    workers: int = 1,
) -> list[float]:
    """Stage 6: CarRacing-v3 returns of a controller (`params` None: the random policy) on tracks `seeds`."""
    from joblib import Parallel, delayed

    from genmodels.world_models.agent import controller_inputs, load_world_model

    root = Path(folder)
    paths = (str(root / "vision.safetensors"), str(root / "memory.safetensors"))
    world = load_world_model(*paths)
    if params is not None and len(params) != controller_inputs(world, inputs) * 3 + 3:
        raise InputError("controller does not fit the world model", item=f"{len(params)} parameters")
    return list(
        Parallel(n_jobs=workers)(delayed(_score)(paths, params, inputs, s, config.max_steps) for s in seeds)
    )


def _score(
    paths: tuple[str, str], params: np.ndarray | None, inputs: Inputs, seed: int, max_steps: int
) -> float:
    from genmodels.world_models.agent import controller_inputs, load_world_model, real_rollout
    from genmodels.world_models.controller import LinearController

    world = load_world_model(*paths)
    controller = None if params is None else LinearController(params, controller_inputs(world, inputs))
    return real_rollout(world, controller, inputs, seed, max_steps)[0]
