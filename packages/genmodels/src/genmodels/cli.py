"""``genmodels`` command line: train and evaluate the VAE family, run the experiments.

Built on the workspace's CLI contract (`core.cli`): validated ``--seed``/``--device``/``--threads``,
``--out`` always a folder, option defaults read from the config dataclasses (`genmodels.config`,
torch-free), every bad input one line on stderr with exit code 2. Nothing here imports torch until a
command runs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from core.cli import (
    add_config_arguments,
    add_device_option,
    add_out_option,
    add_seed_option,
    add_threads_option,
    config_from_args,
    dispatch,
    existing_file,
    package_cli,
    positive_int,
)
from core.reproduce import add_reproduce_command
from genmodels.config import (
    CausalInfoGANConfig,
    CausalInfoGANRunConfig,
    ObjectiveConfig,
    TDVAEConfig,
    TDVAERunConfig,
    TrainConfig,
    VAEConfig,
    VAERunConfig,
)

DESCRIPTION = (
    "Deep generative models: VAEs (MLP/conv, ELBO, IWAE), GECO, and more (see the README). "
    "Experiments: `genmodels reproduce --only vae`."
)

VAE_CHECKPOINT = "vae.safetensors"
"""The file `genmodels fit-vae` keeps in its ``--out`` folder (resumed from when present)."""

DATA_HELP = (
    "digits, mnist-5000, a .npy/.npz file (array 'images') or a folder of images (default: %(default)s)"
)


def _fit_vae(args: argparse.Namespace) -> int:
    import math

    from core.device import pick_device
    from core.results import ResultTable
    from genmodels.data import load_images
    from genmodels.vae import save_image_grid
    from genmodels.vae.training import fit_vae

    train, test = load_images(args.data).split(args.test_fraction, seed=args.seed)
    config = VAERunConfig(
        model=config_from_args(VAEConfig, args, image_shape=train.shape),
        objective=config_from_args(ObjectiveConfig, args, prefix="objective-"),
        train=config_from_args(TrainConfig, args, seed=args.seed),
    )
    device = pick_device(args.device)
    run = fit_vae(train, config, test=test, checkpoint=args.out / VAE_CHECKPOINT, device=device)
    table = ResultTable(
        "fit_vae",
        rows=run.history,
        title=f"{config.model.architecture} VAE, {config.model.likelihood} likelihood, {config.objective.kind}",
        notes="Per-epoch means of the training steps; test_* on the held-out split (nats per image, RMSE in pixel units).",
        data=test.source,
    )
    print(table.to_markdown())
    print(f"written: {table.save(args.out)}")
    import torch

    images = test.tensor()[:32].to(device)
    with torch.no_grad():
        grid = save_image_grid(
            args.out / "grid.png",
            {
                "data": images.cpu().numpy(),
                "reconstruction": run.model.reconstruct(images).cpu().numpy(),
                "samples": run.model.sample(32, torch.Generator(device=device).manual_seed(args.seed))
                .cpu()
                .numpy(),
            },
        )
    print(
        f"written: {grid}; checkpoint: {args.out / VAE_CHECKPOINT} ({math.prod(train.shape)} pixels per image)"
    )
    return 0


def _evaluate_vae(args: argparse.Namespace) -> int:
    import torch

    from core.checkpoint import load_checkpoint, load_state_into
    from core.device import pick_device
    from core.results import ResultTable, mean_sd
    from genmodels.data import load_images
    from genmodels.vae import build_vae, importance_log_likelihood
    from genmodels.vae.training import evaluate_vae

    saved = load_checkpoint(args.checkpoint, VAERunConfig)
    config = saved.config
    images = load_images(args.data)
    if args.split:
        images = images.split(args.test_fraction, seed=config.train.seed)[1]
    if images.shape != tuple(config.model.image_shape):
        from core.errors import InputError

        raise InputError(
            "images do not have the model's shape",
            item=f"{images.source}: {images.shape}",
            expected=f"{tuple(config.model.image_shape)}",
        )
    device = pick_device(args.device)
    model = build_vae(config.model)
    load_state_into(model, saved.state["model"], source=args.checkpoint)
    model.to(device).eval()
    x = images.tensor()[: args.limit].to(device)
    generator = torch.Generator(device=device).manual_seed(args.seed)
    log_px = importance_log_likelihood(model, x, args.k, generator)
    table = ResultTable(
        "evaluate_vae",
        title=f"VAE evaluation ({args.checkpoint})",
        notes=f"log p(x) by the importance-weighted bound L_k, k = {args.k}; nats per image.",
        data=images.source,
    )
    table.add(images=len(x), log_px_iwae=mean_sd(log_px.tolist()), **evaluate_vae(model, x, seed=args.seed))
    print(table.to_markdown())
    return 0


TDVAE_CHECKPOINT = "tdvae.safetensors"
"""The file `genmodels fit-tdvae` keeps in its ``--out`` folder (resumed from when present)."""


def _sequences(name: str):
    """``(sequences (n, time, obs_dim) float32 tensor, source)`` from "oscillator" or a .npy file."""
    from pathlib import Path

    import numpy as np
    import torch

    from core.errors import InputError

    if name == "oscillator":
        data = harmonic_oscillator_default()
        return torch.from_numpy(data.observations), data.source
    if name == "moving-digits":
        from genmodels.data import load_mnist_5000
        from genmodels.experiments.tdvae_mnist import SETTINGS, TRAIN_IMAGES
        from genmodels.sequences import moving_digits

        smoke = SETTINGS["smoke"]
        images = load_mnist_5000().images[:TRAIN_IMAGES]
        digits = moving_digits(images, smoke["train"], smoke["length"], seed=0, source="mnist-5000 0-3999")
        return torch.from_numpy(digits.flat()), digits.source
    path = Path(name)
    if path.suffix != ".npy" or not path.is_file():
        raise InputError(
            "sequence data must be 'oscillator', 'moving-digits' or an existing .npy file", item=name
        )
    try:
        array = np.load(path, allow_pickle=False)
    except (ValueError, OSError) as error:
        raise InputError(f"cannot read {path}: {error}", item=str(path)) from None
    if array.ndim != 3 or array.shape[1] < 2 or not np.issubdtype(array.dtype, np.number):
        raise InputError(
            "sequences must be a numeric array (n, time >= 2, obs_dim)",
            item=f"{path}: shape {array.shape}, dtype {array.dtype}",
        )
    if not np.isfinite(array).all():
        raise InputError("sequences must be finite", item=str(path))
    return torch.from_numpy(array.astype(np.float32)), f"{path} ({array.shape[0]} sequences)"


def harmonic_oscillator_default():
    """The oscillator data `fit-tdvae --data oscillator` trains on (1,000 sequences of 40 steps, seed 0)."""
    from genmodels.sequences import harmonic_oscillator

    return harmonic_oscillator(1000, 40, seed=0)


def _fit_tdvae(args: argparse.Namespace) -> int:
    from core.device import pick_device
    from core.results import ResultTable
    from genmodels.tdvae import fit_tdvae

    sequences, source = _sequences(args.data)
    frame = {"frame": (14, 28)} if args.data == "moving-digits" and args.frame is None else {}
    config = TDVAERunConfig(
        model=config_from_args(TDVAEConfig, args, obs_dim=int(sequences.shape[-1]), **frame),
        train=config_from_args(TrainConfig, args, seed=args.seed),
        pairs=args.pairs,
    )
    _, history = fit_tdvae(
        sequences, config, checkpoint=args.out / TDVAE_CHECKPOINT, device=pick_device(args.device)
    )
    table = ResultTable(
        "fit_tdvae",
        rows=history,
        title="TD-VAE training (per-epoch means of the loss and its terms, nats per sequence)",
        data=source,
    )
    print(table.to_markdown())
    print(f"written: {table.save(args.out)}; checkpoint: {args.out / TDVAE_CHECKPOINT}")
    return 0


CAUSAL_INFOGAN_CHECKPOINT = "causal-infogan.safetensors"
"""The file `genmodels fit-causal-infogan` keeps in its ``--out`` folder (resumed from when present)."""


def _fit_causal_infogan(args: argparse.Namespace) -> int:
    import torch

    from core.results import ResultTable
    from genmodels.causal_infogan import fit_causal_infogan
    from genmodels.maze import Maze

    maze = Maze()
    pairs = torch.from_numpy(maze.pairs(args.pairs, args.seed))
    config = CausalInfoGANRunConfig(
        model=config_from_args(CausalInfoGANConfig, args, obs_dim=maze.size**2),
        train=config_from_args(TrainConfig, args, seed=args.seed),
    )
    _, history = fit_causal_infogan(pairs, config, checkpoint=args.out / CAUSAL_INFOGAN_CHECKPOINT)
    table = ResultTable(
        "fit_causal_infogan",
        rows=history,
        title="(Causal) InfoGAN training: per-epoch means of the losses and the mutual-information term",
        data=f"two-room maze written here ({args.pairs} random one-move transitions, seed {args.seed})",
    )
    print(table.to_markdown())
    print(f"written: {table.save(args.out)}; checkpoint: {args.out / CAUSAL_INFOGAN_CHECKPOINT}")
    return 0


PLANET_CHECKPOINT = "planet.safetensors"
"""The file `genmodels planet` keeps in its ``--out`` folder (resumed from when present)."""


def _planet(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from core.results import ResultTable
    from genmodels.experiments.latent_dynamics import planet_configuration
    from genmodels.planet.loop import run_planet

    config = planet_configuration(args.scale, args.seed, args.env)
    if args.episodes is not None:
        config = replace(config, episodes=args.episodes)
    _, history = run_planet(config, checkpoint=args.out / PLANET_CHECKPOINT)
    table = ResultTable(
        "planet",
        rows=history,
        title=f"PlaNet on {config.env}: one row per collected episode",
        data=(
            f"point mass rendered to 16 x 16 frames, task {config.env!r}, written here"
            if config.env.startswith("pointmass")
            else f"DeepMind Control {config.env} from 64 x 64 pixels (dm-control, genmodels.planet.dmc)"
        ),
    )
    print(table.to_markdown())
    print(f"written: {table.save(args.out)}; checkpoint: {args.out / PLANET_CHECKPOINT}")
    return 0


WORLD_MODELS_STAGES = ("collect", "vision", "memory", "controller", "evaluate")


def _world_models(args: argparse.Namespace) -> int:
    from core.results import ResultTable, mean_sd
    from genmodels.experiments.world_models import EVALUATION_SEED_BASE, configuration
    from genmodels.world_models import pipeline

    config = configuration(args.scale, args.workers, args.seed)
    folder = args.out
    name = f"{args.where}-{args.inputs}" + (f"-tau{args.temperature:g}" if args.where == "dream" else "")
    if args.stage == "collect":
        paths = pipeline.collect(folder, config, seed=args.seed)
        print(f"{len(paths)} episodes in {folder / 'rollouts'}")
    elif args.stage == "vision":
        run = pipeline.train_vision(folder, config, held_out=max(1, config.episodes // 8))
        print(ResultTable("vision", rows=run.history).to_markdown())
    elif args.stage == "memory":
        pipeline.encode(folder)
        _, history = pipeline.train_memory(folder, config)
        print(ResultTable("memory", rows=history).to_markdown())
    elif args.stage == "controller":
        tau = args.temperature if args.where == "dream" else None
        result = pipeline.train_controller(folder, config, name, inputs=args.inputs, dream_temperature=tau)
        print(ResultTable("controller", rows=result.history, title=f"CMA-ES {name}").to_markdown())
    else:
        import numpy as np

        from core.checkpoint import load_checkpoint
        from genmodels.config import CMAConfig

        path = folder / f"controller-{name}.safetensors"
        params = None
        if not args.random:
            params = load_checkpoint(path, CMAConfig).state["best_params"].numpy().astype(np.float64)
        seeds = list(range(EVALUATION_SEED_BASE, EVALUATION_SEED_BASE + config.evaluation_tracks))
        returns = pipeline.evaluate(
            folder, config, params, inputs=args.inputs, seeds=seeds, workers=args.workers
        )
        table = ResultTable(
            "evaluate", title=f"CarRacing-v3 returns over {len(seeds)} tracks (v3, not the paper's v0)"
        )
        table.add(policy="random" if args.random else name, score=mean_sd(returns, 1))
        print(table.to_markdown())
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser, commands = package_cli("genmodels", DESCRIPTION)

    fit = commands.add_parser(
        "fit-vae",
        help="train a VAE (ELBO, beta-VAE, KL warm-up or GECO), resumable",
        description=(
            f"Train and checkpoint to OUT/{VAE_CHECKPOINT}; run again with the same options to resume, "
            "or with a larger --epochs to extend a finished run."
        ),
    )
    fit.add_argument("--data", default="mnist-5000", help=DATA_HELP)
    fit.add_argument("--test-fraction", type=float, default=0.2, help="held-out fraction (default: 0.2)")
    add_config_arguments(fit, VAEConfig, exclude=["image_shape"])
    add_config_arguments(fit, ObjectiveConfig, prefix="objective-")
    add_config_arguments(fit, TrainConfig, exclude=["seed"])
    add_seed_option(fit, default=TrainConfig().seed)
    add_device_option(fit)
    add_threads_option(fit)
    add_out_option(
        fit, "runs/genmodels-vae", what=f"the checkpoint ({VAE_CHECKPOINT}), history table and grid"
    )
    fit.set_defaults(handler=_fit_vae)

    evaluate = commands.add_parser(
        "evaluate-vae", help="importance-weighted log-likelihood, ELBO, KL and RMSE of a trained VAE"
    )
    evaluate.add_argument("checkpoint", type=existing_file, help=f"a {VAE_CHECKPOINT} written by fit-vae")
    evaluate.add_argument("--data", default="mnist-5000", help=DATA_HELP)
    evaluate.add_argument(
        "--split",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="evaluate on the held-out split fit-vae used (same seed and fraction) (default: on)",
    )
    evaluate.add_argument("--test-fraction", type=float, default=0.2, help="held-out fraction (default: 0.2)")
    evaluate.add_argument("--k", type=positive_int, default=1000, help="importance samples (default: 1000)")
    evaluate.add_argument("--limit", type=positive_int, default=None, help="evaluate only the first N images")
    add_seed_option(evaluate)
    add_device_option(evaluate)
    add_threads_option(evaluate)
    evaluate.set_defaults(handler=_evaluate_vae)

    tdvae = commands.add_parser(
        "fit-tdvae",
        help="train a TD-VAE on sequences (the noisy oscillator or a .npy array), resumable",
        description=(
            f"Train and checkpoint to OUT/{TDVAE_CHECKPOINT}; run again to resume, or with a larger "
            "--epochs to extend. Sequences: 'oscillator' (1,000 generated sequences of 40 steps), "
            "'moving-digits' (the tdvae-mnist smoke training set: 2,000 sequences of 12 frames of 14 x 28 "
            "from mnist-5000; --frame defaults to 14 28) or a .npy array (n, time, obs_dim)."
        ),
    )
    tdvae.add_argument(
        "--data", default="oscillator", help="oscillator, moving-digits or a .npy file (default: %(default)s)"
    )
    add_config_arguments(tdvae, TDVAEConfig, exclude=["obs_dim"])
    add_config_arguments(tdvae, TrainConfig, exclude=["seed"])
    tdvae.add_argument(
        "--pairs",
        type=positive_int,
        default=TDVAERunConfig().pairs,
        help="(t1, t2) pairs per sequence per step (default: %(default)s)",
    )
    add_seed_option(tdvae, default=TrainConfig().seed)
    add_device_option(tdvae)
    add_threads_option(tdvae)
    add_out_option(
        tdvae, "runs/genmodels-tdvae", what=f"the checkpoint ({TDVAE_CHECKPOINT}) and history table"
    )
    tdvae.set_defaults(handler=_fit_tdvae)

    gan = commands.add_parser(
        "fit-causal-infogan",
        help="train a Causal InfoGAN (or plain InfoGAN: --no-causal) on two-room maze transitions, resumable",
        description=(
            f"Train and checkpoint to OUT/{CAUSAL_INFOGAN_CHECKPOINT}; run again to resume, or with a larger "
            "--epochs to extend. Data: random one-move transitions of the two-room maze (genmodels.maze)."
        ),
    )
    gan.add_argument(
        "--pairs",
        type=positive_int,
        default=20000,
        help="maze transitions to train on (default: %(default)s)",
    )
    add_config_arguments(gan, CausalInfoGANConfig, exclude=["obs_dim"])
    add_config_arguments(gan, TrainConfig, exclude=["seed"])
    gan_train = CausalInfoGANRunConfig().train
    for action in gan._actions:
        if action.dest in ("epochs", "batch_size", "learning_rate"):
            action.default = getattr(gan_train, action.dest)
            action.help = (
                f"{action.dest.replace('_', ' ')} (default: {action.default}, CausalInfoGANRunConfig's)"
            )
    add_seed_option(gan, default=TrainConfig().seed)
    add_threads_option(gan)
    add_out_option(
        gan, "runs/genmodels-causal-infogan", what=f"the checkpoint ({CAUSAL_INFOGAN_CHECKPOINT}) and history"
    )
    gan.set_defaults(handler=_fit_causal_infogan)

    planet = commands.add_parser(
        "planet",
        help="PlaNet's loop (RSSM + CEM planning) on the pixel point mass or DeepMind Control, resumable",
        description=(
            f"Seed episodes, then train the RSSM and plan to collect episodes; checkpoints to "
            f"OUT/{PLANET_CHECKPOINT} after every episode and resumes from it. Sizes: --scale smoke "
            "(minutes) or full (the paper's model and planner)."
        ),
    )
    planet.add_argument("--scale", choices=("smoke", "full"), default="smoke", help="sizes (default: smoke)")
    planet.add_argument(
        "--env",
        choices=(
            "pointmass-centre",
            "pointmass",
            "cartpole-swingup",
            "reacher-easy",
            "cheetah-run",
            "finger-spin",
            "cup-catch",
            "walker-walk",
        ),
        default="pointmass-centre",
        help="the point mass (target at the centre, or drawn per episode) or a DeepMind Control task "
        "from 64 x 64 pixels (default: %(default)s)",
    )
    planet.add_argument(
        "--episodes", type=positive_int, default=None, help="planner episodes (default: the scale's)"
    )
    add_seed_option(planet)
    add_threads_option(planet)
    add_out_option(planet, "runs/genmodels-planet", what=f"the checkpoint ({PLANET_CHECKPOINT}) and history")
    planet.set_defaults(handler=_planet)

    world = commands.add_parser(
        "world-models",
        help="World Models on CarRacing-v3, one resumable stage at a time",
        description=(
            "Stages in order: collect (random-policy episodes), vision (V), memory (encode + M), "
            "controller (C by CMA-ES, real env or dream), evaluate. Every stage reads and writes OUT "
            "and resumes from what is there. Sizes: --scale smoke (minutes) or full (the paper's)."
        ),
    )
    world.add_argument("stage", choices=WORLD_MODELS_STAGES)
    world.add_argument("--scale", choices=("smoke", "full"), default="smoke", help="sizes (default: smoke)")
    world.add_argument(
        "--where", choices=("real", "dream"), default="real", help="train C where (default: real)"
    )
    world.add_argument(
        "--inputs", choices=("zh", "z"), default="zh", help="C's inputs: [z, h] or z only (default: zh)"
    )
    world.add_argument(
        "--temperature", type=float, default=1.15, help="dream temperature tau (default: 1.15)"
    )
    world.add_argument("--random", action="store_true", help="evaluate: score the random policy instead")
    world.add_argument("--workers", type=positive_int, default=1, help="joblib processes (default: 1)")
    add_seed_option(world)
    add_threads_option(world)
    add_out_option(world, "runs/genmodels-world-models", what="episodes, checkpoints and latents")
    world.set_defaults(handler=_world_models)

    from genmodels.flow_cli import add_flow_commands

    add_flow_commands(commands)
    from genmodels.meta.cli import add_meta_commands

    add_meta_commands(commands)
    add_reproduce_command(commands, "genmodels")
    return dispatch(parser, argv)


if __name__ == "__main__":
    sys.exit(main())
