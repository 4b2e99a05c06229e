"""PlaNet's loop (Hafner et al. 2019, Algorithm 1): seed episodes, then train the RSSM and plan to collect more.

1. ``seed_episodes`` episodes with uniform random actions fill the buffer.
2. Repeat ``episodes`` times: ``train_steps`` gradient steps of `rssm_loss` on ``batch_size``
   chunks of ``chunk`` steps drawn from the buffer; then one episode in which the agent filters
   its belief through the posterior and acts by CEM planning (`plan`) plus Gaussian exploration
   noise; the episode joins the buffer and its return is recorded.

Buffer convention (what `rssm_loss` reads): observation t, the action taken after it, and the
reward that arrived with it (0 with the first frame); DeepMind Control frames stay uint8 in the
buffer (a quarter of float32's memory) and `model_input` scales them when a batch is drawn. The run checkpoints after every episode
(model, optimiser, buffer, generator, history) and resumes from there; ``episodes`` is
extendable. All randomness comes from one CPU `torch.Generator` seeded by ``config.seed``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from core.errors import InputError
from genmodels.config import PlaNetConfig
from genmodels.distributions import reparameterise
from genmodels.planet.cem import plan
from genmodels.planet.rssm import RSSM, State, rssm_loss

__all__ = ["PlaNetConfig", "episode", "make_env", "model_input", "run_planet"]

EVALUATION_SEED_BASE = 1_000_000
"""Seeds of evaluation episodes start here (never a training episode's seed)."""


def make_env(config: PlaNetConfig):
    """The task of `config`: the point mass ("pointmass", "pointmass-centre") or a DeepMind Control task."""
    if config.env.startswith("pointmass"):
        from genmodels.planet.pointmass import PointMass

        env = PointMass(
            max_steps=config.max_steps,
            action_repeat=config.action_repeat,
            fixed_target=config.env == "pointmass-centre",
        )
    else:
        from genmodels.planet.dmc import DMCTask

        env = DMCTask(config.env, max_steps=config.max_steps, action_repeat=config.action_repeat)
    if (env.obs_dim, env.action_dim) != (config.model.obs_dim, config.model.action_dim):
        raise InputError(
            "the RSSM does not fit the task",
            item=f"obs_dim {config.model.obs_dim}, action_dim {config.model.action_dim}",
            expected=f"obs_dim {env.obs_dim}, action_dim {env.action_dim}",
        )
    return env


def model_input(observations: Tensor) -> Tensor:
    """What the RSSM reads: float observations as they are, uint8 frames as ``x / 255 - 0.5`` (the paper's)."""
    if observations.dtype == torch.uint8:
        return observations.float() / 255.0 - 0.5
    return observations


@torch.no_grad()
def episode(
    env,
    seed: int,
    generator: torch.Generator,
    *,
    model: RSSM | None = None,
    config: PlaNetConfig | None = None,
    noise: float = 0.0,
) -> tuple[dict[str, np.ndarray], float]:
    """One episode on task `seed`: random actions when `model` is None, else CEM planning plus `noise`.

    Returns:
        ``({"observations" (T+1, obs), "actions" (T+1, action), "rewards" (T+1,)}, return)``.
    """
    observation = env.reset(seed)
    observations, actions, rewards = [observation], [], [0.0]
    state = None if model is None else model.initial(1)
    previous = torch.zeros(1, env.action_dim)
    done = False
    while not done:
        if model is None:
            action = torch.rand(env.action_dim, generator=generator) * 2 - 1
        else:
            h = model.deterministic_step(state, previous)
            embedded = model.embed(model_input(torch.from_numpy(observation)[None]))
            mean, log_var = model.posterior(torch.cat([h, embedded], -1))
            state = State(h, reparameterise(mean, log_var, generator))
            action = plan(model, state, config.planner, generator)
            action = (action + noise * torch.randn(action.shape, generator=generator)).clamp(-1.0, 1.0)
        observation, reward, done = env.step(action.numpy())
        previous = action[None].float()
        actions.append(action.numpy())
        observations.append(observation)
        rewards.append(reward)
    actions.append(np.zeros(env.action_dim, np.float32))
    arrays = {
        "observations": np.stack(observations),  # float32 (point mass) or uint8 frames (DeepMind Control)
        "actions": np.stack(actions).astype(np.float32),
        "rewards": np.asarray(rewards, np.float32),
    }
    return arrays, float(sum(rewards))


def _chunks(buffer: dict[str, Tensor], batch: int, length: int, generator: torch.Generator) -> list[Tensor]:
    episodes, steps = buffer["rewards"].shape
    length = min(length, steps)
    which = torch.randint(0, episodes, (batch,), generator=generator)
    start = torch.randint(0, steps - length + 1, (batch,), generator=generator)
    index = start[:, None] + torch.arange(length)
    observations, actions, rewards = (
        buffer[k][which[:, None], index] for k in ("observations", "actions", "rewards")
    )
    return [model_input(observations), actions, rewards]


def run_planet(
    config: PlaNetConfig,
    *,
    checkpoint: str | Path | None = None,
    on_episode: Callable[[int, dict[str, float]], None] | None = None,
) -> tuple[RSSM, list[dict[str, float]]]:
    """Run PlaNet's loop; returns the model and one history row per episode (seed episodes first).

    Rows: ``episode``, ``kind`` ("random" or "planner"), ``return``, and for planner episodes the
    mean training ``loss``, ``observation_log_likelihood``, ``reward_log_likelihood`` and ``kl``.
    """
    from core.checkpoint import load_checkpoint, save_checkpoint

    env = make_env(config)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        model = RSSM(config.model)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.learning_rate, eps=1e-4)
    generator = torch.Generator().manual_seed(config.seed)
    path = Path(checkpoint) if checkpoint is not None else None
    history: list[dict[str, float]] = []
    buffer: dict[str, Tensor] = {}
    if path is not None and path.exists():
        saved = load_checkpoint(path, PlaNetConfig, resume=config)
        model.load_state_dict(saved.state["model"])
        optimizer.load_state_dict(saved.state["optimizer"])
        generator.set_state(saved.state["generator"])
        buffer = dict(saved.state["buffer"])
        history = saved.extra["history"]

    def add(arrays: dict[str, np.ndarray]) -> None:
        for key, value in arrays.items():
            row = torch.from_numpy(value)[None]
            buffer[key] = row if key not in buffer else torch.cat([buffer[key], row])

    def save() -> None:
        if path is not None:
            state = {
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "generator": generator.get_state(),
                "buffer": buffer,
            }
            save_checkpoint(path, state, config, extra={"history": history})

    while len(history) < config.seed_episodes:
        arrays, total = episode(env, config.seed * 100_000 + len(history), generator)
        add(arrays)
        history.append({"episode": len(history) + 1, "kind": "random", "return": total})
        save()
    while len(history) < config.seed_episodes + config.episodes:
        model.train()
        sums: dict[str, float] = {}
        for _ in range(config.train_steps):
            observations, actions, rewards = _chunks(buffer, config.batch_size, config.chunk, generator)
            terms = rssm_loss(model, observations, actions, rewards, generator)
            optimizer.zero_grad(set_to_none=True)
            terms.loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1000.0)
            optimizer.step()
            for name in ("loss", "observation_log_likelihood", "reward_log_likelihood", "kl"):
                sums[name] = sums.get(name, 0.0) + float(getattr(terms, name).detach())
        model.eval()
        arrays, total = episode(
            env,
            config.seed * 100_000 + len(history),
            generator,
            model=model,
            config=config,
            noise=config.exploration_noise,
        )
        add(arrays)
        row = {"episode": len(history) + 1, "kind": "planner", "return": total}
        row.update({k: v / config.train_steps for k, v in sums.items()})
        history.append(row)
        save()
        if on_episode is not None:
            on_episode(len(history), row)
    return model, history
