"""``reproduce genmodels --only latent-dynamics``: TD-VAE's jumpy predictions on the noisy harmonic oscillator.

Gregor et al. 2019 (sec. 5.2, figure): a TD-VAE trained with jumps t2 - t1 up to D predicts far
ahead in a few jumps and stays accurate, where a model rolled out one step at a time accumulates
error. Protocol here: sequences of the oscillator of `genmodels.sequences` (position observed
with noise, velocity noise every step); two TD-VAEs of the same size, one trained with jumps of
exactly 1 (rolled out step by step) and one with jumps in [1, D] (rolled out in jumps of D, and
also step by step); after 20 observed steps each predicts the position h steps ahead (mean of 20
rollouts). Reported: mean squared error to the true position against h, beside two references
computed in closed form: predicting 0 (the mean position; error = the position's variance) and
the best possible prediction from the exact current state (its error is the velocity noise
accumulated over h steps, a floor no model can beat). The paper shows this as a figure; it gives
no number to put beside ours.

PlaNet (Hafner et al. 2019) on the pixel point mass of `genmodels.planet.pointmass` with its
target fixed at the centre (a small task written here with dm_control's point_mass layout):
returns of the planner's episodes against episodes, and the trained planner (no exploration
noise) against uniform random actions on the same 10 fresh tasks. The paper's returns are for
DeepMind Control tasks, none comparable with this one; those run in `run_dmc`
(`--only planet-dmc`: cartpole-swingup at smoke, the six tasks at full, the paper's Table 1
beside ours). Causal InfoGAN is its own sub-experiment (`--only causal-infogan`).
"""

from __future__ import annotations

import numpy as np
import torch

from core.cli import RunOptions
from core.plots import new_figure, save_figure
from core.results import ResultTable
from genmodels.config import CEMConfig, PlaNetConfig, RSSMConfig, TDVAEConfig, TDVAERunConfig, TrainConfig
from genmodels.sequences import harmonic_oscillator
from genmodels.tdvae import fit_tdvae, jump_schedule, predict

__all__ = [
    "CONTEXT",
    "DMC_EVALUATION_TASKS",
    "PAPER_RETURNS",
    "PLANET_EVALUATION_TASKS",
    "SETTINGS",
    "planet_configuration",
    "run",
    "run_dmc",
    "state_floor",
]

CONTEXT = 20
"""Observed steps before every prediction."""

SETTINGS = {
    "smoke": {
        "train": 1000,
        "test": 200,
        "length": 40,
        "epochs": 150,
        "max_jump": 4,
        "horizons": (1, 4, 8, 12, 16, 20, 30),
    },
    "full": {
        "train": 20000,
        "test": 1000,
        "length": 60,
        "epochs": 200,
        "max_jump": 10,
        "horizons": (1, 2, 5, 10, 15, 20, 30, 40),
    },
}
"""Data, epochs and horizons per scale.

Smoke: two models of 150 epochs on 1,000 sequences (2,250 steps each), 208 s per model measured
on the loaded 2-core machine (40 epochs were not enough: the jumpy model was then no better than
predicting 0 beyond 8 steps, measured). Full: 20,000 sequences of 60 steps, 200 epochs, jumps up
to 10: about 2 x 2.3 hours on one core at the smoke's measured 1.4 s per epoch of 1,000 sequences
of 40 steps (minutes on a GPU).
"""


PLANET_EVALUATION_TASKS = 10
"""Fresh point-mass tasks the trained planner and the random policy are both scored on."""


PAPER_RETURNS = {
    "cartpole-swingup": 821,
    "reacher-easy": 832,
    "cheetah-run": 662,
    "finger-spin": 700,
    "cup-catch": 930,
    "walker-walk": 951,
}
"""PlaNet's returns after 1,000 episodes from pixels (Hafner et al. 2019, Table 1)."""

DMC_EVALUATION_TASKS = 5
"""Fresh DeepMind Control episodes the trained planner and the random policy are both scored on."""


def planet_configuration(scale: str, seed: int, env: str = "pointmass-centre") -> PlaNetConfig:
    """PlaNet's sizes: the paper's at ``full``, minutes of CPU at ``smoke``.

    `env`: "pointmass-centre" (target fixed at the centre, the experiment's task) or "pointmass"
    (a target drawn per episode: at smoke scale the model never drew it, see the README), or a
    DeepMind Control task (`genmodels.planet.dmc.TASKS`): the paper's convolutional RSSM on
    64 x 64 frames with the task's action repeat, 1,000 episodes at full.
    """
    if not env.startswith("pointmass"):
        return _dmc_configuration(scale, seed, env)
    full = PlaNetConfig(
        env=env, model=RSSMConfig(obs_dim=256, action_dim=2), max_steps=1000, action_repeat=4, seed=seed
    )
    if scale == "full":
        return full
    return PlaNetConfig(
        env=env,
        model=RSSMConfig(
            obs_dim=256,
            action_dim=2,
            deterministic=64,
            stochastic=8,
            hidden=64,
            embedding=64,
            overshooting=1,
            obs_sigma=0.3,
        ),
        planner=CEMConfig(horizon=10, candidates=200, iterations=5, top=20),
        seed_episodes=5,
        episodes=15,
        train_steps=50,
        batch_size=16,
        chunk=20,
        max_steps=100,
        action_repeat=2,
        seed=seed,
    )


def _dmc_configuration(scale: str, seed: int, env: str) -> PlaNetConfig:
    from genmodels.planet.dmc import TASKS

    if env not in TASKS:
        from core.errors import InputError

        raise InputError(
            "unknown PlaNet task", item=env, expected=", ".join(("pointmass", "pointmass-centre", *TASKS))
        )
    action_dim = {"cartpole": 1, "reacher": 2, "cheetah": 6, "finger": 2, "ball_in_cup": 2, "walker": 6}[
        TASKS[env][0]
    ]
    repeat = TASKS[env][2]
    if scale == "full":
        return PlaNetConfig(
            env=env,
            model=RSSMConfig(obs_dim=3 * 64 * 64, action_dim=action_dim, encoder="conv"),
            episodes=1000,
            max_steps=1000,
            action_repeat=repeat,
            seed=seed,
        )
    return PlaNetConfig(
        env=env,
        model=RSSMConfig(
            obs_dim=3 * 64 * 64,
            action_dim=action_dim,
            deterministic=100,
            stochastic=16,
            hidden=100,
            embedding=256,
            overshooting=1,
            encoder="conv",
            conv_depth=8,
        ),
        planner=CEMConfig(horizon=12, candidates=300, iterations=6, top=30),
        seed_episodes=5,
        episodes=15,
        train_steps=60,
        batch_size=10,
        chunk=25,
        max_steps=1000,
        action_repeat=repeat,
        seed=seed,
    )


def state_floor(period: float, process_noise: float, horizon: int) -> float:
    """Variance of the position h steps ahead given the exact current state: the noise the future adds.

    The state ``(position, velocity / omega)`` rotates by omega per step and the second entry gets
    ``N(0, process_noise^2)`` after each step: ``P <- R P R^T + diag(0, process_noise^2)`` from P = 0,
    and the position error after h steps is ``P[0, 0]`` (the noise added after step h does not
    reach the position yet).
    """
    omega = 2 * np.pi / period
    rotation = np.array([[np.cos(omega), np.sin(omega)], [-np.sin(omega), np.cos(omega)]])
    covariance = np.zeros((2, 2))
    for _ in range(horizon):
        covariance = covariance + np.diag([0.0, process_noise**2])
        covariance = rotation @ covariance @ rotation.T
    return float(covariance[0, 0])


def run(options: RunOptions) -> list[ResultTable]:
    """Train the step and jumpy TD-VAEs, publish the error-against-horizon table, plot it."""
    settings = SETTINGS[options.scale]
    train = harmonic_oscillator(settings["train"], settings["length"], seed=options.seed)
    test = harmonic_oscillator(settings["test"], CONTEXT + max(settings["horizons"]), seed=options.seed + 1)
    folder = options.out / "latent-dynamics"
    sequences = torch.from_numpy(train.observations)
    models = {}
    for name, jump in (("step", 1), ("jumpy", settings["max_jump"])):
        config = TDVAERunConfig(
            TDVAEConfig(obs_dim=1, max_jump=jump, sigma=train.observation_noise),
            TrainConfig(
                epochs=settings["epochs"],
                batch_size=64,
                learning_rate=1e-3,
                seed=options.seed,
                checkpoint_every=10,
            ),
            pairs=4,
        )
        models[name], _ = fit_tdvae(sequences, config, checkpoint=folder / f"tdvae-{name}.safetensors")
    context = torch.from_numpy(test.observations[:, :CONTEXT])
    generator = torch.Generator().manual_seed(options.seed)
    rollouts = {
        "TD-VAE jumps 1, step by step": (models["step"], lambda h: [1] * h),
        f"TD-VAE jumps 1-{settings['max_jump']}, jumps of {settings['max_jump']}": (
            models["jumpy"],
            lambda h: jump_schedule(h, settings["max_jump"]),
        ),
        f"TD-VAE jumps 1-{settings['max_jump']}, step by step": (models["jumpy"], lambda h: [1] * h),
    }
    table = ResultTable(
        "latent_dynamics_tdvae",
        title="TD-VAE on the noisy harmonic oscillator: MSE of the position h steps after 20 observed steps",
        data=test.source,
    )
    curves: dict[str, list[float]] = {}
    for name, (model, jumps) in rollouts.items():
        model.eval()
        row: dict[str, object] = {"predictor": name}
        for horizon in settings["horizons"]:
            guess = predict(model, context, jumps(horizon), samples=20, generator=generator)[:, 0].numpy()
            error = float(np.mean((guess - test.positions[:, CONTEXT - 1 + horizon]) ** 2))
            row[f"h={horizon}"] = error
            curves.setdefault(name, []).append(error)
        table.add(**row)
    future = test.positions[:, CONTEXT:]
    references = {
        "predict 0 (the mean position)": [
            float(np.mean(test.positions[:, CONTEXT - 1 + h] ** 2)) for h in settings["horizons"]
        ],
        "exact current state (floor)": [
            state_floor(test.period, test.process_noise, h) for h in settings["horizons"]
        ],
    }
    for name, values in references.items():
        table.add(predictor=name, **{f"h={h}": v for h, v in zip(settings["horizons"], values)})
        curves[name] = values
    table.notes = (
        f"{settings['train']} training sequences of {settings['length']} steps, {settings['epochs']} epochs per model "
        f"(belief LSTM 50, z of 8, 4 (t1, t2) pairs per sequence per step); {settings['test']} test sequences; "
        f"each prediction is the mean of 20 sampled rollouts. Position variance {float(np.var(future)):.3f}. "
        "Paper (Gregor et al. 2019): a figure of jumpy rollouts staying on the oscillation; no number to compare."
    )
    options.publish(table)
    figure = new_figure(6.4, 3.8)
    axis = figure.add_subplot(1, 1, 1)
    for name, values in curves.items():
        axis.plot(settings["horizons"], values, marker="o", label=name)
    axis.set(
        xlabel="horizon h (steps)",
        ylabel="MSE of the position",
        title="TD-VAE: prediction error against horizon",
    )
    axis.legend(fontsize=7)
    save_figure(figure, folder / "tdvae_horizon.png")
    return [table, *_planet(options, folder)]


def run_dmc(options: RunOptions) -> list[ResultTable]:
    """``reproduce genmodels --only planet-dmc``: PlaNet from pixels on DeepMind Control.

    Smoke: cartpole-swingup with a small convolutional RSSM; full: the paper's six tasks with the
    paper's model, planner and 1,000 episodes each (hours stated by the run's notes).
    """
    folder = options.out / "planet-dmc"
    tasks = ("cartpole-swingup",) if options.scale == "smoke" else tuple(PAPER_RETURNS)
    tables: list[ResultTable] = []
    for task in tasks:
        tables += _planet(options, folder, env=task, prefix=f"planet_dmc_{task.replace('-', '_')}")
    return tables


def _planet(
    options: RunOptions, folder, env: str = "pointmass-centre", prefix: str = "latent_dynamics_planet"
) -> list[ResultTable]:
    """PlaNet's loop on `env`; publishes the return curve and the paired evaluation against random actions."""
    import time

    from core.results import mean_sd
    from genmodels.planet.loop import EVALUATION_SEED_BASE, episode, make_env, run_planet

    dmc = not env.startswith("pointmass")
    config = planet_configuration(options.scale, options.seed, env)
    began = time.perf_counter()
    name = f"planet-{env}.safetensors" if dmc else "planet.safetensors"
    model, history = run_planet(
        config,
        checkpoint=folder / name,
        on_episode=lambda n, row: print(
            f"[planet {env}] episode {n}: return {row['return']:.1f}", flush=True
        ),
    )
    seconds = time.perf_counter() - began
    what = f"DeepMind Control {env} from 64 x 64 pixels" if dmc else "the pixel point mass"
    data = (
        f"dm_control {env} (dm-control 1.0.50 on mujoco 4.0.0 with genmodels.planet.dmc's field-table fix), "
        "camera 0 rendered to 64 x 64 RGB through MUJOCO_GL=egl"
        if dmc
        else f"point mass rendered to 16 x 16 frames, task {config.env!r}, written here (a stand-in for DeepMind Control)"
    )
    rows = [{k: row[k] for k in ("episode", "kind", "return") if k in row} for row in history]
    if dmc:
        for row in rows:
            row["paper_after_1000_episodes"] = PAPER_RETURNS[env]
    curve = ResultTable(
        f"{prefix}_curve",
        rows=rows,
        title=f"PlaNet on {what}: return of each collected episode (planner with exploration noise)",
        data=data,
    )
    options.publish(curve)
    env_, generator = make_env(config), torch.Generator().manual_seed(options.seed + 7)
    count = DMC_EVALUATION_TASKS if dmc else PLANET_EVALUATION_TASKS
    seeds = range(EVALUATION_SEED_BASE, EVALUATION_SEED_BASE + count)
    model.eval()
    began = time.perf_counter()
    planner = [episode(env_, s, generator, model=model, config=config)[1] for s in seeds]
    random = [episode(env_, s, generator)[1] for s in seeds]
    evaluation = time.perf_counter() - began
    table = ResultTable(
        prefix,
        title=f"PlaNet on {what}: returns on {count} fresh episodes",
        data=curve.data,
    )
    table.add(policy="uniform random actions", score=mean_sd(random, 2))
    table.add(
        policy=f"PlaNet after {config.episodes} planner episodes (no exploration noise)",
        score=mean_sd(planner, 2),
    )
    table.add(policy="planner minus random, paired", score=mean_sd(list(np.subtract(planner, random)), 2))
    if dmc:
        table.add(policy="PlaNet, paper (1,000 episodes, Table 1)", score=str(PAPER_RETURNS[env]))
    table.notes = (
        f"{config.max_steps}-step episodes (reward in [0, 1] per step), action repeat {config.action_repeat}; "
        f"RSSM {config.model.deterministic}/{config.model.stochastic}, overshooting D = {config.model.overshooting}; "
        f"CEM horizon {config.planner.horizon}, {config.planner.candidates} candidates, {config.planner.iterations} "
        f"iterations, top {config.planner.top}; {config.seed_episodes} seed episodes, {config.train_steps} gradient "
        f"steps of {config.batch_size} x {config.chunk} per episode; the loop took {seconds:.0f} s "
        f"(this call: {len(history) - config.seed_episodes} planner episodes in the checkpoint), the evaluation "
        f"{evaluation:.0f} s. "
        + (
            f"Encoder/decoder: the paper's convolutions at depth {config.model.conv_depth} (paper: 32). "
            f"{_planet_full_hours(env)}"
            if dmc
            else f"{_planet_full_hours()} The paper's returns are on DeepMind Control tasks, not comparable with this one."
        )
    )
    options.publish(table)
    strip = folder / (f"planet_open_loop_{env}.png" if dmc else "planet_open_loop.png")
    _open_loop_strip(model, config, strip, options.seed)
    return [curve, table]


@torch.no_grad()
def _open_loop_strip(model, config: PlaNetConfig, path, seed: int, context: int = 5, ahead: int = 15) -> None:
    """True frames beside the model's open-loop predictions: filter `context` frames, then imagine with the actions taken."""
    from genmodels.planet.loop import EVALUATION_SEED_BASE, episode, make_env, model_input
    from genmodels.planet.pointmass import SIZE
    from genmodels.planet.rssm import State
    from genmodels.vae.grids import save_image_grid

    generator = torch.Generator().manual_seed(seed)
    arrays, _ = episode(make_env(config), EVALUATION_SEED_BASE, generator)
    observations = model_input(torch.from_numpy(arrays["observations"][None, : context + ahead]))
    actions = torch.from_numpy(arrays["actions"][None, : context + ahead])
    post = model.observe(observations[:, :context], actions[:, :context], generator)
    state = State(post["h"][:, -1], post["s"][:, -1])
    predicted = [model.observation(torch.cat([post["h"][:, t], post["s"][:, t]], -1)) for t in range(context)]
    for t in range(context, context + ahead):
        state, _, _ = model.imagine(state, actions[:, t - 1], generator)
        predicted.append(model.observation(state.features()))
    pixels = config.model.encoder == "conv"
    shape, offset = ((3, 64, 64), 0.5) if pixels else ((1, SIZE, SIZE), 0.0)
    frames = (observations[0] + offset).reshape(-1, *shape).numpy()
    guesses = (torch.cat(predicted) + offset).clamp(0, 1).reshape(-1, *shape).numpy()
    save_image_grid(
        path,
        {"true frames": frames, f"model: {context} filtered, then open loop": guesses},
        columns=5,
        title=f"PlaNet on {config.env} (evaluation episode 1,000,000, random actions)",
    )


def _planet_full_hours(env: str = "pointmass-centre") -> str:
    """Hours of `--scale full`'s loop from one full-size gradient step and one full-size planned action, timed here."""
    import time

    from genmodels.planet.cem import plan
    from genmodels.planet.rssm import RSSM, rssm_loss

    full = planet_configuration("full", 0, env)
    model, generator = RSSM(full.model), torch.Generator().manual_seed(0)
    # Frames: time 5 of the 50 sequences and scale by 10 (a full batch of 2,500 frames needs GiBs here).
    timed = full.batch_size if env.startswith("pointmass") else 5
    shape = (timed, full.chunk)
    began = time.perf_counter()
    observations, actions = torch.rand(*shape, full.model.obs_dim), torch.rand(*shape, full.model.action_dim)
    terms = rssm_loss(model, observations, actions, torch.rand(*shape), generator)
    terms.loss.backward()
    step = (time.perf_counter() - began) * full.batch_size / timed
    began = time.perf_counter()
    plan(model, model.initial(1), full.planner, generator)
    action = time.perf_counter() - began
    actions = full.max_steps // full.action_repeat
    hours = full.episodes * (full.train_steps * step + actions * action) / 3600
    return (
        f"--scale full on {env} (the paper's RSSM, overshooting 50, CEM 12/1000/10/100, {full.episodes} episodes of 1000 steps): "
        f"{step:.1f} s per gradient step and {action:.1f} s per planned action measured here on one CPU core, "
        f"about {hours:,.0f} hours (GPU advised)."
    )
