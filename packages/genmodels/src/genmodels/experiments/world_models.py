"""``reproduce genmodels --only world-models``: World Models on CarRacing-v3 (Ha & Schmidhuber 2018).

Stages (`genmodels.world_models.pipeline`, each resumable in ``--out/world-models``): random-policy
episodes, V, M, then C by CMA-ES in the real environment (V+M features [z, h], and the z-only
ablation) and inside the dream at several temperatures; every controller, a zero controller
(all parameters 0: steer 0, half gas, no brake) and the random policy are then scored on the
same fresh tracks. Tables: scores beside the paper's (906 ± 21 with [z, h], 632 ± 251 with z only,
100 tracks of CarRacing-v0); V's held-out reconstruction against the mean frame; M's losses.
Figures: the agent's frames in the real environment, a dream decoded by V, the CMA-ES curves.

CarRacing-v3 is not the paper's v0: v3 ends an episode when 95 % of the tiles are visited or the
car leaves the playfield (-100), and its physics and rendering were revised, so scores are
comparable in kind only. ``--scale smoke`` also cuts episodes to 100 steps (2 seconds of driving),
so its scores are on another scale than 1000-step episodes: it shows the pipeline learning
(C above the random policy), not the paper's number.
"""

from __future__ import annotations

import math
import time
from dataclasses import replace

import numpy as np

from core.cli import RunOptions
from core.plots import new_figure, save_figure
from core.results import ResultTable, mean_sd
from genmodels.config import CMAConfig, MDNRNNConfig, MemoryRunConfig, TrainConfig, WorldModelsConfig

__all__ = ["PAPER", "configuration", "run"]

PAPER = {("real", "zh"): "906 ± 21", ("real", "z"): "632 ± 251"}
"""The paper's CarRacing-v0 scores over 100 tracks (Table 1), by (where C was trained, C's inputs)."""

EVALUATION_SEED_BASE = 1_000_000
"""Evaluation tracks are seeds from here on: never a training or collection track."""


def configuration(scale: str, workers: int, seed: int) -> WorldModelsConfig:
    """The pipeline's config: the paper's at ``full``, a few minutes of CPU at ``smoke``."""
    full = WorldModelsConfig(collect_workers=workers)
    full = replace(
        full,
        controller=replace(full.controller, workers=workers, seed=seed),
        dream_controller=replace(full.dream_controller, workers=workers, seed=seed),
        vision=replace(full.vision, train=replace(full.vision.train, seed=seed)),
        memory=replace(full.memory, train=replace(full.memory.train, seed=seed)),
    )
    if scale == "full":
        return full
    return replace(
        full,
        episodes=8,
        max_steps=100,
        vision=replace(
            full.vision, train=TrainConfig(epochs=4, batch_size=32, learning_rate=1e-3, seed=seed)
        ),
        memory=MemoryRunConfig(
            model=MDNRNNConfig(),
            train=TrainConfig(epochs=30, batch_size=8, learning_rate=1e-3, seed=seed),
            sequence_length=25,
        ),
        controller=CMAConfig(population=8, rollouts=1, generations=3, sigma0=0.1, workers=workers, seed=seed),
        dream_controller=CMAConfig(
            population=8, rollouts=4, generations=10, sigma0=0.1, workers=1, seed=seed
        ),
        temperatures=(1.0, 1.15),
        evaluation_tracks=4,
    )


def run(options: RunOptions) -> list[ResultTable]:
    """Run every stage at ``options.scale``; publish the tables as they are computed."""
    import os

    from genmodels.world_models import pipeline
    from genmodels.world_models.agent import load_world_model

    workers = max(1, min(os.cpu_count() or 1, 16))
    config = configuration(options.scale, workers, options.seed)
    folder = options.out / "world-models"
    seconds: dict[str, float] = {}

    def timed(name, fn, *args, **kwargs):
        began = time.perf_counter()
        value = fn(*args, **kwargs)
        seconds[name] = seconds.get(name, 0.0) + time.perf_counter() - began
        return value

    held_out = max(1, config.episodes // 8)
    timed("collect", pipeline.collect, folder, config, seed=options.seed)
    vision_run = timed("vision", pipeline.train_vision, folder, config, held_out)
    tables = [_vision_table(options, folder, vision_run, held_out)]
    options.publish(tables[-1])
    timed("encode", pipeline.encode, folder)
    _, memory_history = timed("memory", pipeline.train_memory, folder, config)
    tables.append(_memory_table(memory_history, config))
    options.publish(tables[-1])

    controllers: dict[str, tuple[str, str, float | None]] = {
        "real [z, h]": ("real", "zh", None),
        "real z only": ("real", "z", None),
        **{f"dream [z, h] tau={tau:g}": ("dream", "zh", tau) for tau in config.temperatures},
    }
    results = {}
    for name, (where, inputs, tau) in controllers.items():
        key = name.replace(" ", "_").replace("[", "").replace("]", "").replace(",", "").replace("=", "")
        results[name] = timed(
            f"controller {where}",
            pipeline.train_controller,
            folder,
            config,
            key,
            inputs=inputs,
            dream_temperature=tau,
        )
    seeds = list(range(EVALUATION_SEED_BASE, EVALUATION_SEED_BASE + config.evaluation_tracks))
    world = load_world_model(str(folder / "vision.safetensors"), str(folder / "memory.safetensors"))
    score = ResultTable(
        "world_models_carracing",
        title=f"World Models on CarRacing-v3: returns over {len(seeds)} fresh tracks ({config.max_steps}-step episodes)",
        data=f"gymnasium CarRacing-v3, {config.episodes} random-policy episodes collected here",
    )
    baselines = {"random policy": (None, "zh"), "zero controller (half gas, straight)": (np.zeros(867), "zh")}
    for name, (params, inputs) in baselines.items():
        returns = timed(
            "evaluate", pipeline.evaluate, folder, config, params, inputs=inputs, seeds=seeds, workers=workers
        )
        score.add(
            policy=name,
            trained_in="-",
            inputs="-",
            parameters=0 if params is None else len(params),
            score=mean_sd(returns, 1),
        )
    for name, (where, inputs, tau) in controllers.items():
        result = results[name]
        returns = timed(
            "evaluate",
            pipeline.evaluate,
            folder,
            config,
            result.best_params,
            inputs=inputs,
            seeds=seeds,
            workers=workers,
        )
        score.add(
            policy=f"C {name}",
            trained_in=where if tau is None else f"dream, tau {tau:g}",
            inputs="[z, h]" if inputs == "zh" else "z",
            parameters=len(result.best_params),
            score=mean_sd(returns, 1),
            training_fitness=result.best_fitness,
            candidates_mean_first_last=f"{result.history[0]['mean']:.1f} -> {result.history[-1]['mean']:.1f}",
            paper_v0=PAPER.get((where, inputs), ""),
        )
    horizon = timed("evaluate", _straight_driving_table, seeds[0], config.max_steps)
    options.publish(horizon)
    tables.append(horizon)
    candidates = _candidate_actions_table(folder, world, config.controller.sigma0, options.seed)
    options.publish(candidates)
    tables.append(candidates)
    hours = _full_scale_hours(world, config, workers)
    score.notes = (
        f"CMA-ES: population {config.controller.population}, {config.controller.rollouts} rollout(s) per candidate, "
        f"{config.controller.generations} generations in the real env; dream: population {config.dream_controller.population}, "
        f"{config.dream_controller.rollouts} rollouts, {config.dream_controller.generations} generations. "
        "Paper scores are CarRacing-v0, 1000-step episodes, 100 tracks: v3 differs (termination at 95 % of tiles, "
        "revised physics/rendering), so compare in kind only. "
        f"Stage wall seconds here: {', '.join(f'{k} {v:.0f}' for k, v in seconds.items())}. {hours}"
    )
    options.publish(score)
    tables.append(score)
    _figures(folder, world, results, config, seeds[0])
    return tables


def _vision_table(options, folder, vision_run, held_out) -> ResultTable:
    import torch

    from genmodels.world_models.pipeline import frames_of

    train, test = frames_of(folder, held_out)
    images = test.tensor()
    mean_frame = train.tensor().mean(0, keepdim=True)
    with torch.no_grad():
        vision_run.model.eval()
        recon = torch.cat(
            [vision_run.model.reconstruct(images[i : i + 128]) for i in range(0, len(images), 128)]
        )
    table = ResultTable(
        "world_models_vision",
        title="V on held-out CarRacing-v3 frames: RMS pixel error",
        data=test.source,
    )
    table.add(
        model="V (reconstruction at z = mean of q)", rmse=math.sqrt(float((recon - images).pow(2).mean()))
    )
    table.add(model="mean training frame", rmse=math.sqrt(float((mean_frame - images).pow(2).mean())))
    table.notes = f"{len(train)} training frames, {len(test)} held-out frames, {vision_run.history[-1]['epoch']} epochs."
    return table


def _memory_table(history, config) -> ResultTable:
    table = ResultTable("world_models_memory", title="M (MDN-RNN) training, per epoch (first and last)")
    for row in (history[0], history[-1]):
        table.add(**{k: row[k] for k in ("epoch", "nll_per_dim", "reward_mse", "done_bce")})
    table.notes = (
        f"{config.memory.model.hidden} LSTM units, {config.memory.model.gaussians} Gaussians per latent dimension, "
        f"windows of {config.memory.sequence_length} steps; nll_per_dim = -log p(z_t+1) per latent dimension (nats)."
    )
    return table


def _straight_driving_table(seed: int, max_steps: int, longest: int = 400) -> ResultTable:
    """Why the zero controller is hard to beat in short episodes: where straight driving stops paying.

    Drives the zero controller's action (steer 0, gas 0.5, brake 0) on track `seed` for up to
    `longest` steps in the bare environment and reports the last step that reached a new tile, the
    return at `max_steps` and at the end (the car leaves the track at the first bend and, later,
    the playfield: -100).
    """
    from genmodels.world_models.env import CarRacing

    env = CarRacing(max_steps=longest)
    env.reset(seed=seed)
    rewards = []
    for _ in range(longest):
        _, reward, terminated, truncated, _ = env.step(np.array([0.0, 0.5, 0.0], np.float32))
        rewards.append(reward)
        if terminated or truncated:
            break
    env.close()
    rewards = np.asarray(rewards)
    tiles = np.nonzero(rewards > 0)[0]
    table = ResultTable(
        "world_models_horizon",
        title=f"Straight driving (the zero controller's action) on evaluation track {seed}",
        data="gymnasium CarRacing-v3, bare environment (no V or M)",
    )
    table.add(
        last_new_tile_step=int(tiles[-1]) + 1 if len(tiles) else 0,
        return_at_episode_length=float(rewards[:max_steps].sum()),
        episode_length=max_steps,
        steps_until_end=len(rewards),
        return_at_end=float(rewards.sum()),
        left_playfield=bool(rewards[-1] <= -100),
    )
    table.notes = (
        "Driving straight collects every tile of the opening straight and then none: a controller "
        "can beat the zero controller only by steering through the first bend, so episodes must run "
        "well past the step above for steering to pay."
    )
    return table


def _candidate_actions_table(folder, world, sigma0: float, seed: int, draws: int = 200) -> ResultTable:
    """What CMA-ES's first candidates do: actions of controllers N(0, sigma0^2 I) on the features of episode 0.

    The zero controller (CMA-ES's starting mean) never steers or brakes; a candidate drawn around it
    does both at every step, because its pre-activations scale with the norm of [z, h, 1].
    """
    import torch

    from genmodels.world_models.controller import LinearController

    with np.load(folder / "latents.npz") as data:
        z, actions = torch.from_numpy(data["mean_0"][:-1]), torch.from_numpy(data["actions_0"])
    with torch.no_grad():
        _, _, hidden = world.memory(z[None], actions[None])
    features = {"zh": np.concatenate([z.numpy(), hidden[0].numpy()], 1), "z": z.numpy()}
    rng = np.random.default_rng(seed)
    table = ResultTable(
        "world_models_candidates",
        title=f"Actions of CMA-ES's first candidates (sigma0 {sigma0:g}) on a collected episode's features",
        data=f"episode 0 of {folder / 'rollouts'}, encoded by V and M",
    )
    for inputs, values in features.items():
        size = values.shape[1]
        acted = np.stack(
            [
                np.stack([LinearController(p, size).act(f) for f in values])
                for p in rng.normal(0.0, sigma0, (draws, size * 3 + 3))
            ]
        )
        table.add(
            inputs="[z, h]" if inputs == "zh" else "z",
            feature_norm=float(np.linalg.norm(values, axis=1).mean()),
            mean_abs_steer=float(np.abs(acted[..., 0]).mean()),
            braking_fraction=float((acted[..., 2] > 0).mean()),
            mean_brake=float(acted[..., 2].mean()),
            mean_gas=float(acted[..., 1].mean()),
        )
    table.add(
        inputs="zero controller", mean_abs_steer=0.0, braking_fraction=0.0, mean_brake=0.0, mean_gas=0.5
    )
    table.notes = (
        f"{draws} candidates x {len(z)} steps. Each candidate steers and brakes at random around the zero "
        "controller, so early generations score far below their mean (the zero controller)."
    )
    return table


def _full_scale_hours(world, config: WorldModelsConfig, workers: int) -> str:
    """Hours of `--scale full`'s environment work, from one real rollout timed here (after a warm-up)."""
    from genmodels.world_models.agent import real_rollout
    from genmodels.world_models.controller import LinearController

    controller = LinearController(np.zeros(867), world.latent_dim + world.hidden)
    real_rollout(world, controller, "zh", 0, 5)
    began = time.perf_counter()
    real_rollout(world, controller, "zh", 0, config.max_steps)
    per_step = (time.perf_counter() - began) / config.max_steps
    full = WorldModelsConfig()
    cma_steps = (
        2
        * full.controller.population
        * full.controller.rollouts
        * full.controller.generations
        * full.max_steps
    )
    collect_steps = full.episodes * full.max_steps
    hours = (cma_steps + collect_steps) * per_step / 3600
    return (
        f"Measured here: {per_step * 1000:.0f} ms per agent step in CarRacing-v3 on one loaded core. --scale full "
        f"(10,000 episodes of 1,000 steps, then CMA-ES population 64 x 16 rollouts x {full.controller.generations} "
        f"generations for the [z, h] and z-only controllers) needs about {hours:,.0f} core-hours of environment steps "
        f"at that rate (about {hours / 16:,.0f} hours on 16 workers), plus V and M training (GPU advised)."
    )


def _figures(folder, world, results, config, seed) -> None:
    import torch

    from genmodels.vae.grids import save_image_grid
    from genmodels.world_models.agent import real_rollout
    from genmodels.world_models.controller import LinearController
    from genmodels.world_models.dream import dream_rollout

    best = results["real [z, h]"]
    controller = LinearController(best.best_params, world.latent_dim + world.hidden)
    _, frames = real_rollout(world, controller, "zh", seed, config.max_steps, keep_frames=True)
    strip = np.stack(frames[:: max(1, len(frames) // 16)][:16]).astype(np.float32) / 255.0
    save_image_grid(
        folder / "agent_real.png", {"C [z, h] in CarRacing-v3": np.moveaxis(strip, -1, 1)}, columns=8
    )
    dream_name = next(name for name in results if name.startswith("dream"))
    dreamer = LinearController(results[dream_name].best_params, world.latent_dim + world.hidden)
    starts = torch.from_numpy(np.load(folder / "starts.npy"))
    _, latents = dream_rollout(
        world, dreamer, "zh", starts[0], config.temperatures[0], seed, config.max_steps, keep_latents=True
    )
    with torch.no_grad():
        decoded = world.vision.likelihood.mean(
            world.vision.decode(torch.stack(latents[:: max(1, len(latents) // 16)][:16]))
        )
    save_image_grid(
        folder / "dream_decoded.png", {f"{dream_name}: dream decoded by V": decoded.numpy()}, columns=8
    )
    figure = new_figure(6.4, 3.6)
    axis = figure.add_subplot(1, 1, 1)
    for name, result in results.items():
        axis.plot(
            [r["generation"] for r in result.history],
            [r["best"] for r in result.history],
            marker="o",
            label=name,
        )
    axis.set(
        xlabel="generation", ylabel="best candidate's fitness", title="CMA-ES (dream fitness is M's reward)"
    )
    axis.legend(fontsize=7)
    save_figure(figure, folder / "cma_curves.png")
