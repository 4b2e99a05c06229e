"""Issue 24's sub-commands of ``genmodels``: ``fit-flow``, ``score-ood``, ``fit-mmd-gan``, ``fit-ode-net``,
``fit-cnf``, ``fit-latent-ode`` (torch-free until run).

`add_flow_commands` is called by `genmodels.cli.main`; the handlers import torch when they run.
"""

from __future__ import annotations

import argparse

from core.cli import (
    add_config_arguments,
    add_device_option,
    add_out_option,
    add_seed_option,
    add_threads_option,
    config_from_args,
    existing_file,
    output_folder,
    positive_int,
)
from genmodels.config import (
    CNFRunConfig,
    FlowConfig,
    FlowRunConfig,
    LatentODERunConfig,
    MMDGANConfig,
    MMDGANRunConfig,
    ODENetRunConfig,
    SpiralConfig,
    TrainConfig,
)

__all__ = [
    "CNF_CHECKPOINT",
    "FLOW_CHECKPOINT",
    "GAN_CHECKPOINT",
    "LATENT_ODE_CHECKPOINT",
    "ODE_CHECKPOINT",
    "add_flow_commands",
    "flow_images",
]

FLOW_CHECKPOINT = "flow.safetensors"
"""The file `genmodels fit-flow` keeps in its ``--out`` folder (resumed from when present)."""

GAN_CHECKPOINT = "mmd_gan.safetensors"
"""The file `genmodels fit-mmd-gan` keeps in its ``--out`` folder."""

ODE_CHECKPOINT = "ode_net.safetensors"
"""The file `genmodels fit-ode-net` keeps in its ``--out`` folder."""

CNF_CHECKPOINT = "cnf.safetensors"
"""The file `genmodels fit-cnf` keeps in its ``--out`` folder."""

LATENT_ODE_CHECKPOINT = "latent_ode.safetensors"
"""The file `genmodels fit-latent-ode` keeps in its ``--out`` folder (``rnn.safetensors`` for ``--model rnn``)."""

GRID_SUFFIX = "16"
"""``--data mnist16`` (etc.) names a set of `genmodels.ood_data` on its 16 x 16, 256-level grid."""

FLOW_DATA_HELP = (
    "mnist16, digits16, inverted16, constant16, noise16 (genmodels.ood_data's 16 x 16 sets, 256 levels), "
    "or anything --data of fit-vae takes: digits, mnist-5000, a .npy/.npz file, a folder"
)


def flow_images(name: str, seed: int):
    """``(ImageSet, grey levels or None)`` for a `--data` value: the grid sets give 256 levels."""
    from genmodels.ood_data import LEVELS, OOD_SETS, ood_sets

    if name.endswith(GRID_SUFFIX) and name[: -len(GRID_SUFFIX)] in OOD_SETS:
        return ood_sets(seed)[name[: -len(GRID_SUFFIX)]], LEVELS
    from genmodels.data import load_images

    return load_images(name), None


def _fit_flow(args: argparse.Namespace) -> int:
    from core.device import pick_device
    from core.results import ResultTable
    from genmodels.flows import fit_flow

    images, levels = flow_images(args.data, args.seed)
    train, test = images.split(args.test_fraction, seed=args.seed)
    overrides = {"image_shape": train.shape}
    if levels is not None:
        overrides["grey_levels"] = levels
    config = FlowRunConfig(
        model=config_from_args(FlowConfig, args, **overrides),
        train=config_from_args(TrainConfig, args, seed=args.seed),
        max_grad_norm=args.max_grad_norm,
    )
    run = fit_flow(
        train, config, test=test, checkpoint=args.out / FLOW_CHECKPOINT, device=pick_device(args.device)
    )
    table = ResultTable(
        "fit_flow",
        rows=run.history,
        title=f"{config.model.coupling} flow ({config.model.levels} levels x {config.model.steps} steps)",
        notes="Per-epoch training bits/dim; test_* on the held-out split (bits/dim, nats per image).",
        data=test.source,
    )
    print(table.to_markdown())
    print(f"written: {table.save(args.out)}; checkpoint: {args.out / FLOW_CHECKPOINT}")
    return 0


def _score_ood(args: argparse.Namespace) -> int:
    import numpy as np

    from core.errors import InputError
    from core.results import ResultTable
    from genmodels.flows import flow_log_likelihood, load_flow
    from genmodels.ood import aupr, auroc, waic

    models = [load_flow(path) for path in args.checkpoints]
    shapes = {tuple(config.model.image_shape) for _, config in models}
    if len(shapes) != 1:
        raise InputError("the checkpoints' flows take different image shapes", item=sorted(shapes))
    seed = models[0][1].train.seed
    inside, _ = flow_images(args.inside, seed)
    if args.split:
        inside = inside.split(args.test_fraction, seed=seed)[1]
    sets = {args.inside: inside}
    for name in args.other:
        sets[name] = flow_images(name, seed)[0]
    for name, images in sets.items():
        if images.shape != next(iter(shapes)):
            raise InputError(
                "images do not have the flows' shape",
                item=f"{name}: {images.shape}",
                expected=next(iter(shapes)),
            )
    log_p = {
        name: np.stack(
            [
                flow_log_likelihood(model, images.tensor()[: args.limit], seed=args.seed)["log_prob"]
                .double()
                .numpy()
                for model, _ in models
            ]
        )
        for name, images in sets.items()
    }
    bpd = {
        name: float(
            flow_log_likelihood(models[0][0], images.tensor()[: args.limit], seed=args.seed)["bpd"].mean()
        )
        for name, images in sets.items()
    }
    table = ResultTable(
        "score_ood",
        title=f"OoD scores against {args.inside} ({len(models)} flow(s))",
        notes=(
            "bits/dim of the first flow; AUROC/AUPR with the other set positive, scored by -log p of the first "
            "flow and by -WAIC (mean - variance of log p over all flows) when more than one is given."
        ),
        data={name: images.source for name, images in sets.items()},
    )
    a = log_p[args.inside]
    table.add(data=args.inside, bpd=bpd[args.inside])
    for name in args.other:
        b = log_p[name]
        row = {
            "data": name,
            "bpd": bpd[name],
            "auroc -log p": auroc(-a[0], -b[0]),
            "aupr -log p": aupr(-a[0], -b[0]),
        }
        if len(models) > 1:
            row.update({"auroc -WAIC": auroc(-waic(a), -waic(b)), "aupr -WAIC": aupr(-waic(a), -waic(b))})
        table.add(**row)
    print(table.to_markdown())
    if args.out is not None:
        print(f"written: {table.save(args.out)}")
    return 0


def _train_overrides(parser: argparse.ArgumentParser, defaults: TrainConfig, owner: str) -> None:
    for action in parser._actions:
        if action.dest in ("epochs", "batch_size", "learning_rate"):
            action.default = getattr(defaults, action.dest)
            action.help = f"{action.dest.replace('_', ' ')} (default: {action.default}, {owner}'s)"


def _fit_mmd_gan(args: argparse.Namespace) -> int:
    import torch

    from core.results import ResultTable
    from genmodels.mmd_gan import fit_mmd_gan

    images, _ = flow_images(args.data, args.seed)
    config = MMDGANRunConfig(
        model=config_from_args(MMDGANConfig, args, image_shape=images.shape),
        train=config_from_args(TrainConfig, args, seed=args.seed),
    )
    model, history = fit_mmd_gan(images.tensor(), config, checkpoint=args.out / GAN_CHECKPOINT)
    table = ResultTable(
        "fit_mmd_gan",
        rows=history,
        title=f"MMD-GAN, {config.model.loss} loss, {config.model.kernel}",
        data=images.source,
    )
    print(table.to_markdown())
    with torch.no_grad():
        samples = model.sample(64, torch.Generator().manual_seed(args.seed)).numpy()
    from genmodels.experiments.mmd_gan import _grids

    _grids({"samples": samples}, args.out / "samples.png")
    print(
        f"written: {table.save(args.out)}; {args.out / 'samples.png'}; checkpoint: {args.out / GAN_CHECKPOINT}"
    )
    return 0


def _fit_ode_net(args: argparse.Namespace) -> int:
    import torch

    from core.errors import InputError
    from core.results import ResultTable
    from genmodels.node import fit_ode_classifier

    images, _ = flow_images(args.data, args.seed)
    if images.labels is None:
        raise InputError("fit-ode-net needs labelled images", item=images.source)
    train, test = images.split(args.test_fraction, seed=args.seed)
    config = config_from_args(
        ODENetRunConfig, args, train=config_from_args(TrainConfig, args, seed=args.seed)
    )
    model, history = fit_ode_classifier(
        train.tensor(), torch.from_numpy(train.labels), config, checkpoint=args.out / ODE_CHECKPOINT
    )
    with torch.no_grad():
        accuracy = float((model(test.tensor()).argmax(1) == torch.from_numpy(test.labels)).float().mean())
    table = ResultTable(
        "fit_ode_net",
        rows=history,
        title=f"{config.model} classifier (held-out accuracy {accuracy:.4f})",
        notes="Per-epoch training loss and forward NFE (0 for the ResNet).",
        data=test.source,
    )
    print(table.to_markdown())
    print(f"written: {table.save(args.out)}; checkpoint: {args.out / ODE_CHECKPOINT}")
    return 0


def _fit_cnf(args: argparse.Namespace) -> int:
    import torch

    from core.results import ResultTable
    from genmodels.experiments.neural_ode import _density
    from genmodels.node import fit_cnf
    from genmodels.toy2d import sample_density

    points = torch.from_numpy(sample_density(args.data, args.points + args.test_points, seed=args.seed))
    train, test = points[: args.points], points[args.points :]
    config = config_from_args(
        CNFRunConfig, args, dims=2, train=config_from_args(TrainConfig, args, seed=args.seed)
    )
    model, history = fit_cnf(train, config, checkpoint=args.out / CNF_CHECKPOINT)
    held_out = float(model.log_prob(test, estimator="exact", tolerance=1e-5).detach().mean())
    gaussian = torch.distributions.MultivariateNormal(
        train.double().mean(0), torch.cov(train.double().T)
    ).log_prob(test.double())
    table = ResultTable(
        "fit_cnf",
        rows=history,
        title=(
            f"CNF on {args.data}: held-out log-likelihood {held_out:.3f} nats per point (exact trace), "
            f"full-covariance Gaussian {float(gaussian.mean()):.3f}"
        ),
        notes=f"Per-epoch training negative log-likelihood ({config.estimator} trace) and forward NFE.",
        data=f"genmodels.toy2d {args.data} (standardised), {len(train)} training, {len(test)} held-out points",
    )
    print(table.to_markdown())
    _density(model, train, args.out / "cnf_density.png")
    print(
        f"held-out log-likelihood: {held_out:.4f} nats per point; written: {table.save(args.out)}; "
        f"{args.out / 'cnf_density.png'}; checkpoint: {args.out / CNF_CHECKPOINT}"
    )
    return 0


def _fit_latent_ode(args: argparse.Namespace) -> int:
    import torch

    from core.results import ResultTable
    from genmodels.experiments.latent_ode import plot_spirals
    from genmodels.latent_ode import fit_sequence_model, prediction_errors
    from genmodels.spirals import make_spirals

    spirals = make_spirals(config_from_args(SpiralConfig, args), seed=args.seed)
    held_out = max(1, round(len(spirals) * args.test_fraction))
    train, test = (
        spirals.subset(range(len(spirals) - held_out)),
        spirals.subset(range(len(spirals) - held_out, len(spirals))),
    )
    config = config_from_args(
        LatentODERunConfig, args, train=config_from_args(TrainConfig, args, seed=args.seed)
    )
    values, times = (torch.from_numpy(a) for a in train.observations())
    name = LATENT_ODE_CHECKPOINT if config.model == "latent-ode" else "rnn.safetensors"
    model, history = fit_sequence_model(values, times, config, checkpoint=args.out / name)
    errors = prediction_errors(model, test)
    table = ResultTable(
        "fit_latent_ode",
        rows=history[-1:],
        title=(
            f"{config.model} on spirals, held-out RMSE: interpolation {errors['interpolation']:.4f}, "
            f"extrapolation {errors['extrapolation']:.4f}, reconstruction {errors['reconstruction']:.4f}"
        ),
        notes="Last epoch's training metrics (nats per spiral); RMSE per coordinate against the noise-free spirals.",
        data=test.source,
    )
    print(table.to_markdown())
    plot_spirals({config.model: model}, test, args.out / "spirals.png")
    print(f"written: {table.save(args.out)}; {args.out / 'spirals.png'}; checkpoint: {args.out / name}")
    return 0


def add_flow_commands(commands) -> None:
    """Add ``fit-flow`` and ``score-ood`` to the ``genmodels`` sub-command parsers."""
    fit = commands.add_parser(
        "fit-flow",
        help="train a Glow/RealNVP flow (affine or additive coupling) by dequantised maximum likelihood, resumable",
        description=(
            f"Train and checkpoint to OUT/{FLOW_CHECKPOINT}; run again with the same options to resume, or with "
            "a larger --epochs to extend a finished run."
        ),
    )
    fit.add_argument("--data", default="mnist16", help=f"{FLOW_DATA_HELP} (default: %(default)s)")
    fit.add_argument("--test-fraction", type=float, default=0.2, help="held-out fraction (default: 0.2)")
    add_config_arguments(fit, FlowConfig, exclude=["image_shape"])
    add_config_arguments(fit, TrainConfig, exclude=["seed"])
    _train_overrides(fit, FlowRunConfig().train, "FlowRunConfig")
    fit.add_argument(
        "--max-grad-norm",
        type=float,
        default=FlowRunConfig().max_grad_norm,
        help="gradient-norm clip (default: %(default)s)",
    )
    add_seed_option(fit, default=TrainConfig().seed)
    add_device_option(fit)
    add_threads_option(fit)
    add_out_option(fit, "runs/genmodels-flow", what=f"the checkpoint ({FLOW_CHECKPOINT}) and history table")
    fit.set_defaults(handler=_fit_flow)

    score = commands.add_parser(
        "score-ood",
        help="bits/dim and OoD AUROC/AUPR of trained flows: likelihood, and WAIC over several checkpoints",
    )
    score.add_argument(
        "checkpoints", nargs="+", type=existing_file, help=f"{FLOW_CHECKPOINT} files of fit-flow"
    )
    score.add_argument(
        "--in", dest="inside", default="mnist16", help="the in-distribution data (default: %(default)s)"
    )
    score.add_argument(
        "--other",
        nargs="+",
        default=["digits16", "inverted16", "constant16", "noise16"],
        help="out-of-distribution sets (default: %(default)s)",
    )
    score.add_argument(
        "--split",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="score the held-out split of --in that fit-flow used (first checkpoint's seed) (default: on)",
    )
    score.add_argument("--test-fraction", type=float, default=0.2, help="held-out fraction (default: 0.2)")
    score.add_argument(
        "--limit", type=positive_int, default=None, help="score only the first N images of each set"
    )
    score.add_argument(
        "--out", type=output_folder, default=None, help="folder for the table (default: print only)"
    )
    add_seed_option(score)
    add_threads_option(score)
    score.set_defaults(handler=_score_ood)

    gan = commands.add_parser(
        "fit-mmd-gan",
        help="train an MMD-GAN (repulsive or standard MMD loss, RBF-B or RBF kernel) or a hinge GAN, resumable",
        description=f"Train and checkpoint to OUT/{GAN_CHECKPOINT}; run again to resume or with a larger --epochs to extend.",
    )
    gan.add_argument("--data", default="mnist16", help=f"{FLOW_DATA_HELP} (default: %(default)s)")
    add_config_arguments(gan, MMDGANConfig, exclude=["image_shape"])
    add_config_arguments(gan, TrainConfig, exclude=["seed"])
    _train_overrides(gan, MMDGANRunConfig().train, "MMDGANRunConfig")
    add_seed_option(gan, default=TrainConfig().seed)
    add_threads_option(gan)
    add_out_option(
        gan, "runs/genmodels-mmd-gan", what=f"the checkpoint ({GAN_CHECKPOINT}), history and samples"
    )
    gan.set_defaults(handler=_fit_mmd_gan)

    ode = commands.add_parser(
        "fit-ode-net",
        help="train an ODE-Net classifier (torchdiffeq, dopri5) or its equal-depth ResNet, resumable",
        description=f"Train and checkpoint to OUT/{ODE_CHECKPOINT}; prints the held-out accuracy.",
    )
    ode.add_argument(
        "--data", default="digits", help=f"labelled images: {FLOW_DATA_HELP} (default: %(default)s)"
    )
    ode.add_argument("--test-fraction", type=float, default=0.2, help="held-out fraction (default: 0.2)")
    add_config_arguments(ode, ODENetRunConfig, exclude=["train"])
    add_config_arguments(ode, TrainConfig, exclude=["seed"])
    _train_overrides(ode, ODENetRunConfig().train, "ODENetRunConfig")
    add_seed_option(ode, default=TrainConfig().seed)
    add_threads_option(ode)
    add_out_option(ode, "runs/genmodels-ode-net", what=f"the checkpoint ({ODE_CHECKPOINT}) and history")
    ode.set_defaults(handler=_fit_ode_net)

    cnf = commands.add_parser(
        "fit-cnf",
        help="train a continuous normalising flow (FFJORD's Hutchinson trace) on a named 2-D density, resumable",
        description=(
            f"Train and checkpoint to OUT/{CNF_CHECKPOINT} (run again to resume, or with a larger --epochs to "
            "extend); writes the density plot OUT/cnf_density.png and prints the held-out log-likelihood."
        ),
    )
    from genmodels.toy2d import DENSITIES

    cnf.add_argument(
        "--data", choices=DENSITIES, default="moons", help="the 2-D density (default: %(default)s)"
    )
    cnf.add_argument(
        "--points", type=positive_int, default=4000, help="training points (default: %(default)s)"
    )
    cnf.add_argument(
        "--test-points", type=positive_int, default=1000, help="held-out points (default: %(default)s)"
    )
    add_config_arguments(cnf, CNFRunConfig, exclude=["train", "dims"])
    add_config_arguments(cnf, TrainConfig, exclude=["seed"])
    _train_overrides(cnf, CNFRunConfig().train, "CNFRunConfig")
    add_seed_option(cnf, default=TrainConfig().seed)
    add_threads_option(cnf)
    add_out_option(
        cnf, "runs/genmodels-cnf", what=f"the checkpoint ({CNF_CHECKPOINT}), history and density plot"
    )
    cnf.set_defaults(handler=_fit_cnf)

    lode = commands.add_parser(
        "fit-latent-ode",
        help="train a latent ODE (or the RNN baseline) on irregularly sampled spirals, resumable",
        description=(
            f"Generate the spirals, train and checkpoint to OUT/{LATENT_ODE_CHECKPOINT} (OUT/rnn.safetensors "
            "for --model rnn; run again to resume, or with a larger --epochs to extend); prints the held-out "
            "interpolation/extrapolation RMSE and draws OUT/spirals.png."
        ),
    )
    add_config_arguments(lode, SpiralConfig)
    lode.add_argument("--test-fraction", type=float, default=0.2, help="held-out spirals (default: 0.2)")
    add_config_arguments(lode, LatentODERunConfig, exclude=["train"])
    add_config_arguments(lode, TrainConfig, exclude=["seed"])
    _train_overrides(lode, LatentODERunConfig().train, "LatentODERunConfig")
    lode.set_defaults(checkpoint_every=LatentODERunConfig().train.checkpoint_every)
    add_seed_option(lode, default=TrainConfig().seed)
    add_threads_option(lode)
    add_out_option(lode, "runs/genmodels-latent-ode", what="the checkpoint, table and spiral plot")
    lode.set_defaults(handler=_fit_latent_ode)
