"""The dream: CarRacing simulated by M, where C can be trained without the real environment (sec. 4.4).

A dream episode starts from V's code of a real first frame (drawn from the collected episodes),
then repeats: action = C([z, h]); M reads (z, action); the next z is sampled from M's mixture at
temperature tau, the reward is M's reward head, and the episode ends when M's done head says so
(probability > 0.5) or after ``max_steps``. Larger tau makes the dream harder to exploit (the
paper's remedy against a controller that learns M's mistakes).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from genmodels.world_models.agent import Inputs, WorldModel, controller_inputs, load_world_model
from genmodels.world_models.controller import LinearController
from genmodels.world_models.memory import sample_mdn

__all__ = ["dream_fitness", "dream_rollout"]


def dream_rollout(
    world: WorldModel,
    controller: LinearController,
    inputs: Inputs,
    start: torch.Tensor,
    temperature: float,
    seed: int,
    max_steps: int,
    *,
    keep_latents: bool = False,
) -> tuple[float, list[torch.Tensor]]:
    """One dream episode from the code `start` ``(latent,)``; returns ``(dreamed return, z per step)``."""
    from core.device import torch_threads

    generator = torch.Generator().manual_seed(seed)
    z = start.reshape(1, 1, -1).float()
    state = None
    hidden = np.zeros(world.hidden, np.float32)
    total = 0.0
    latents = [z[0, 0]] if keep_latents else []
    with torch_threads(1), torch.no_grad():
        for _ in range(max_steps):
            features = np.concatenate([z[0, 0].numpy(), hidden]) if inputs == "zh" else z[0, 0].numpy()
            action = torch.from_numpy(controller.act(features))
            output, state, h = world.memory(z, action.reshape(1, 1, -1), state)
            total += float(output.reward[0, 0])
            hidden = h[0, -1].numpy()
            z = sample_mdn(output, temperature, generator)
            if keep_latents:
                latents.append(z[0, 0])
            if float(torch.sigmoid(output.done_logit[0, 0])) > 0.5:
                break
    return total, latents


def dream_fitness(
    params: np.ndarray,
    seeds: list[int],
    *,
    vision_path: str,
    memory_path: str,
    starts_path: str,
    inputs: Inputs,
    temperature: float,
    max_steps: int,
) -> float:
    """Mean dreamed return of `params` over `seeds` (each seed picks a start code and the dream's noise)."""
    world = load_world_model(str(Path(vision_path)), str(Path(memory_path)))
    starts = torch.from_numpy(np.load(starts_path))
    controller = LinearController(params, controller_inputs(world, inputs))
    returns = []
    for seed in seeds:
        start = starts[np.random.default_rng(seed).integers(len(starts))]
        returns.append(dream_rollout(world, controller, inputs, start, temperature, seed, max_steps)[0])
    return float(np.mean(returns))
