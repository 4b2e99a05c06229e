"""The V-M-C agent driving CarRacing-v3, and the fitness functions CMA-ES scores controllers with.

Per step (Ha & Schmidhuber 2018, sec. 2.3): z = the mean of V's q(z | frame), action =
C([z, h]) (or C(z) for the z-only ablation), then M reads (z, action) and updates h. V and M
come from their checkpoint files; a worker process loads each file once (`load_world_model` is
cached per process), so scoring many candidates costs one load per worker, not per rollout.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import torch

from genmodels.world_models.controller import LinearController

__all__ = ["Inputs", "WorldModel", "controller_inputs", "load_world_model", "real_fitness", "real_rollout"]

Inputs = Literal["zh", "z"]


@dataclass(frozen=True)
class WorldModel:
    """V and M, in eval mode, on the CPU."""

    vision: torch.nn.Module
    memory: torch.nn.Module

    @property
    def latent_dim(self) -> int:
        return self.memory.config.latent_dim

    @property
    def hidden(self) -> int:
        return self.memory.config.hidden


def controller_inputs(world: WorldModel, inputs: Inputs) -> int:
    """Length of C's input: latent + hidden for "zh", latent for "z"."""
    return world.latent_dim + (world.hidden if inputs == "zh" else 0)


@functools.lru_cache(maxsize=4)
def load_world_model(vision_path: str, memory_path: str) -> WorldModel:
    """V and M from the checkpoints `fit_vae` and `fit_memory` wrote (cached per process)."""
    from core.checkpoint import load_checkpoint, load_state_into
    from genmodels.config import MemoryRunConfig, VAERunConfig
    from genmodels.vae.networks import build_vae
    from genmodels.world_models.memory import MDNRNN

    saved_v = load_checkpoint(vision_path, VAERunConfig)
    vision = build_vae(saved_v.config.model)
    load_state_into(vision, saved_v.state["model"], source=vision_path)
    saved_m = load_checkpoint(memory_path, MemoryRunConfig)
    memory = MDNRNN(saved_m.config.model)
    load_state_into(memory, saved_m.state["model"], source=memory_path)
    return WorldModel(vision.eval(), memory.eval())


def real_rollout(
    world: WorldModel,
    controller: LinearController | None,
    inputs: Inputs,
    seed: int,
    max_steps: int,
    *,
    keep_frames: bool = False,
) -> tuple[float, list[np.ndarray]]:
    """One CarRacing-v3 episode on track `seed`; returns ``(return, full-size frames if kept)``.

    `controller` None drives with uniform random actions (the baseline), drawn from
    ``default_rng(seed)``.
    """
    from core.device import torch_threads
    from genmodels.world_models.env import CarRacing
    from genmodels.world_models.rollouts import random_action

    env = CarRacing(max_steps=max_steps)
    rng = np.random.default_rng(seed)
    frame, _ = env.reset(seed=seed)
    frames = [env.last_frame] if keep_frames else []
    state = None
    hidden = np.zeros(world.hidden, np.float32)
    total = 0.0
    with torch_threads(1), torch.no_grad():
        while True:
            z, _ = world.vision.encode(torch.from_numpy(frame)[None])
            if controller is None:
                action = random_action(rng)
            else:
                features = np.concatenate([z[0].numpy(), hidden]) if inputs == "zh" else z[0].numpy()
                action = controller.act(features)
            frame, reward, terminated, truncated, _ = env.step(action)
            total += reward
            if keep_frames:
                frames.append(env.last_frame)
            if terminated or truncated:
                break
            _, state, h = world.memory(z[None], torch.from_numpy(action)[None, None], state)
            hidden = h[0, -1].numpy()
    env.close()
    return total, frames


def real_fitness(
    params: np.ndarray,
    seeds: list[int],
    *,
    vision_path: str,
    memory_path: str,
    inputs: Inputs,
    max_steps: int,
) -> float:
    """Mean CarRacing-v3 return of the controller `params` over the tracks `seeds` (CMA-ES fitness)."""
    world = load_world_model(str(Path(vision_path)), str(Path(memory_path)))
    controller = LinearController(params, controller_inputs(world, inputs))
    return float(np.mean([real_rollout(world, controller, inputs, seed, max_steps)[0] for seed in seeds]))
