"""Benchmark: robust's gradient attacks against the same attacks of adversarial-robustness-toolbox (ART).

Same model, same images, same budgets: FGSM, BIM / I-FGSM, PGD L-inf (random start), PGD L2
(random start) and MI-FGSM. Reported per attack: robust accuracy with each library, their
difference beside two binomial standard errors of a difference (the sampling noise of the
comparison; the random starts differ between the libraries), and seconds per batch of each
(median of repeats, `core.timing.measure`) with the speed ratio ART / robust (> 1: robust faster).

Why ART and not torchattacks: torchattacks 3.5.1 installs and imports with torch 2.15, but it pins
``requests~=2.25.1``; in the workspace's single lock that downgrades requests (2.34 -> 2.25),
urllib3 (2.x -> 1.26) and idna for every package (torch_geometric and pycox use requests), so it
was not added to the bench group. ART has no DI-FGSM, so DI-FGSM is not compared here.

``--torchattacks`` compares with torchattacks 3.5.1 (the issue's peer) instead, DI-FGSM included: FGSM, PGD
L-inf and L2 (random start), MI-FGSM and DI-FGSM at the same budgets. Because of the pin above, it is
not in the lock: the benchmark installs it itself with ``pip install --no-deps --target
<out>/torchattacks-3.5.1 torchattacks==3.5.1`` (from PyPI; torchattacks never imports requests) and
imports it from there, so the workspace's requests/urllib3 stay as locked.

    uv run --group bench python tools/bench/robust.py --torchattacks [--n 500] [--out runs/bench]

The model: a checkpoint given with ``--checkpoint`` (e.g. the CNN that ``reproduce robust --only
attacks`` trains under ``runs/robust/models/``), else a LeNet trained here for 2 epochs on the
bundled 5,000 MNIST digits (cached under ``--out``).

    uv run --group bench python tools/bench/robust.py [--checkpoint FILE] [--n 500] [--out runs/bench]

``--ibp`` benchmarks interval bound propagation instead (robust issue 2): `robust.certify.interval_bounds`
(centre/radius form: one pass of the layer on the centre, one of ``|W|`` on the radius) against the
textbook layer-by-layer loop (``W+ l + W- u`` and ``W+ u + W- l``: four passes per affine layer) on
Gowal et al.'s three MNIST nets, checking both give the same bounds (relative to the largest bound);
and tries ``auto_LiRPA``'s IBP as a third peer. Its PyPI release (0.3) pins ``torch<1.13`` (no cp311
wheels), so it cannot be resolved with the workspace; the benchmark installs it with ``--no-deps``
(plus ``appdirs``) under ``<out>/auto_LiRPA-0.3``, shims what numpy 2 / torch 2 removed, and times
its IBP (``compute_bounds(method="IBP")``) when `BoundedModule` builds; otherwise the table's notes
say why it was skipped.

    uv run --group bench python tools/bench/robust.py --ibp [--n 500] [--out runs/bench]

``--dknn`` benchmarks DkNN's neighbour search (robust issue 2): the scikit-learn `NearestNeighbors`
index `robust.defenses.DkNN` keeps per layer (fit once, then ``kneighbors`` for the queries)
against brute force in torch (``cdist`` + ``topk``) on the representations of the 4,000 MNIST-5000
training images at the layers ``reproduce robust --only dknn`` indexes (k = 75), checking that
both find the same neighbour sets; and records whether faiss imports.

    uv run python tools/bench/robust.py --dknn [--n 500] [--out runs/bench]

``--adv-train`` times one epoch of PGD adversarial training (robust issue 27): robust's objective
(`run_training` with the PGD objective ``fit_defense`` uses for recipe ``"pgd"``) against the same loop
and loss with torchattacks' ``PGD`` as the inner attack (installed as for ``--torchattacks``): same
LeNet initialisation, training images, batch order, eps, steps and step size; repeats alternate the
two. The strength check: on the model robust's run trained, both PGDs attack ``--n`` test images at
the training budget (robust accuracy of each), and each trained model's robust accuracy under
robust's PGD.

    uv run --group bench python tools/bench/robust.py --adv-train [--train 4000] [--n 500] [--out runs/bench]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

# this file is named like the package it benchmarks: keep its folder off the import path
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != Path(__file__).resolve().parent]

import numpy as np  # noqa: E402
import torch  # noqa: E402

from core.results import ResultTable  # noqa: E402
from core.timing import measure  # noqa: E402
from robust.attacks import make_attack  # noqa: E402
from robust.config import ModelConfig, TrainConfig  # noqa: E402
from robust.data import load_dataset  # noqa: E402
from robust.train import fit, load_model  # noqa: E402

EPS_LINF, EPS_L2, STEPS = 0.1, 1.5, 10


def _publish(table: ResultTable, out: Path, name: str) -> None:
    """Print `table` as markdown and write it as JSON to ``out / name``."""
    print(table.to_markdown())
    out.mkdir(parents=True, exist_ok=True)
    (out / name).write_text(json.dumps(table.to_dict(), indent=2))


def budgets() -> dict[str, tuple[str, dict, str, dict]]:
    """Attack label -> (robust name, robust budget, ART class name, ART keyword arguments)."""
    alpha, alpha_l2 = 2.5 * EPS_LINF / STEPS, 2.5 * EPS_L2 / STEPS
    return {
        "FGSM": ("fgsm", {"eps": EPS_LINF}, "FastGradientMethod", {"norm": np.inf, "eps": EPS_LINF}),
        "BIM": (
            "bim",
            {"eps": EPS_LINF, "alpha": alpha, "steps": STEPS},
            "BasicIterativeMethod",
            {"eps": EPS_LINF, "eps_step": alpha, "max_iter": STEPS},
        ),
        "PGD L-inf": (
            "pgd",
            {"eps": EPS_LINF, "alpha": alpha, "steps": STEPS},
            "ProjectedGradientDescentPyTorch",
            {"norm": np.inf, "eps": EPS_LINF, "eps_step": alpha, "max_iter": STEPS, "num_random_init": 1},
        ),
        "PGD L2": (
            "pgd-l2",
            {"eps": EPS_L2, "alpha": alpha_l2, "steps": STEPS},
            "ProjectedGradientDescentPyTorch",
            {"norm": 2, "eps": EPS_L2, "eps_step": alpha_l2, "max_iter": STEPS, "num_random_init": 1},
        ),
        "MI-FGSM": (
            "mifgsm",
            {"eps": EPS_LINF, "alpha": alpha, "steps": STEPS, "decay": 1.0},
            "MomentumIterativeMethod",
            {"norm": np.inf, "eps": EPS_LINF, "eps_step": alpha, "max_iter": STEPS, "decay": 1.0},
        ),
    }


def reference_model(args: argparse.Namespace, data) -> torch.nn.Module:
    if args.checkpoint is not None:
        return load_model(args.checkpoint)[0]
    config = TrainConfig(model=ModelConfig("lenet"), data="mnist5000", epochs=2, seed=0)
    model, _ = fit(data, config, checkpoint=Path(args.out) / "bench-lenet.safetensors")
    return model


def naive_bounds(model: torch.nn.Module, lower: torch.Tensor, upper: torch.Tensor):
    """Textbook IBP: split every affine layer's weights into positive and negative parts."""
    from torch import nn

    from robust.certify.ibp import layers_of

    for layer in layers_of(model):
        if isinstance(layer, nn.Linear | nn.Conv2d):
            positive, negative = layer.weight.clamp_min(0), layer.weight.clamp_max(0)

            def apply(t, w, bias=None, layer=layer):
                if isinstance(layer, nn.Linear):
                    return nn.functional.linear(t, w, bias)
                return nn.functional.conv2d(
                    t, w, bias, layer.stride, layer.padding, layer.dilation, layer.groups
                )

            lower, upper = (
                apply(lower, positive, layer.bias) + apply(upper, negative),
                apply(upper, positive, layer.bias) + apply(lower, negative),
            )
        else:
            lower, upper = layer(lower), layer(upper)
    return lower, upper


def ibp_bench(args: argparse.Namespace) -> None:
    from robust.certify import interval_bounds
    from robust.certify.ibp import input_box
    from robust.models import build_model

    lirpa, lirpa_status = _import_lirpa(args.out)
    data = load_dataset("mnist5000")
    x = data.x_test[: args.n]
    table = ResultTable(
        "bench_ibp",
        title=f"IBP bounds on {args.n} MNIST images at eps 0.1: robust (centre/radius) vs the W+/W- loop",
        data=data.describe(),
        notes=f"Randomly initialised nets (bounds and timing do not depend on training); one torch thread. auto_LiRPA: {lirpa_status}.",
    )
    for architecture in ("ibp-small", "ibp-medium", "ibp-large"):
        with torch.random.fork_rng():
            torch.manual_seed(0)
            model = build_model(ModelConfig(architecture)).eval()
        box = input_box(x, 0.1)
        with torch.no_grad():
            ours, theirs = interval_bounds(model, *box), naive_bounds(model, *box)
            scale = float(torch.cat([ours[0].abs(), ours[1].abs()]).max())
            difference = max(float((a - b).abs().max()) for a, b in zip(ours, theirs, strict=True)) / scale
            t_ours = measure(lambda m=model, b=box: interval_bounds(m, *b), repeats=args.repeats).median
            t_naive = measure(lambda m=model, b=box: naive_bounds(m, *b), repeats=args.repeats).median
            t_forward = measure(lambda m=model: m(x), repeats=args.repeats).median
        peer = {}
        if lirpa is not None:
            try:
                bounded = lirpa.BoundedModule(model, torch.zeros_like(x[:1]))
                ptb = lirpa.PerturbationLpNorm(norm=float("inf"), eps=0.1, x_L=box[0], x_U=box[1])
                bounded_x = lirpa.BoundedTensor(x, ptb)
                theirs_lirpa = bounded.compute_bounds(x=(bounded_x,), method="IBP")
            except Exception as error:  # an old auto_LiRPA on a new torch: record why, keep the table
                lirpa, lirpa_status = (
                    None,
                    f"imports but fails on {architecture}: {type(error).__name__}: {error}",
                )
                print(f"auto_LiRPA skipped: {lirpa_status}")
                table.notes = table.notes.rsplit(" auto_LiRPA:", 1)[0] + f" auto_LiRPA: {lirpa_status}."
            else:
                with torch.no_grad():
                    gap = max(float((a - b).abs().max()) for a, b in zip(ours, theirs_lirpa, strict=True))
                    t_lirpa = measure(
                        lambda b=bounded, t=bounded_x: b.compute_bounds(x=(t,), method="IBP"),
                        repeats=args.repeats,
                    ).median
                peer = {
                    "max_bound_difference_lirpa": gap / scale,
                    "seconds_lirpa": t_lirpa,
                    "lirpa_over_robust": t_lirpa / t_ours,
                }
        table.add(
            model=architecture,
            max_bound_difference_relative=difference,
            seconds_robust=t_ours,
            seconds_naive_loop=t_naive,
            speed_ratio=t_naive / t_ours,
            robust_over_one_forward=t_ours / t_forward,
            **peer,
        )
    _publish(table, args.out, "robust_ibp.json")


LIRPA = "0.3"


def _import_lirpa(out: Path):  # type: ignore[no-untyped-def]
    """``(auto_LiRPA or None, status line)``: its PyPI release from a private folder under `out`.

    auto_LiRPA 0.3 requires ``torch<1.13`` (no wheels for this Python), so it is installed with
    --no-deps (plus its ``appdirs``) and two removed names are shimmed: numpy 2's
    ``numpy.lib.arraysetops.isin`` and torch 2's ``torch.onnx.symbolic_helper._set_opset_version``.
    """
    import importlib
    import types

    target = out / f"auto_LiRPA-{LIRPA}"
    try:
        if not (target / "auto_LiRPA").is_dir():
            _install_private(target, f"auto_LiRPA=={LIRPA}", "appdirs")
        if "numpy.lib.arraysetops" not in sys.modules:
            shim = types.ModuleType("numpy.lib.arraysetops")
            shim.isin = np.isin  # type: ignore[attr-defined]
            sys.modules["numpy.lib.arraysetops"] = shim
        import torch.onnx.symbolic_helper as helper

        if not hasattr(helper, "_set_opset_version"):
            helper._set_opset_version = lambda version: None  # type: ignore[attr-defined]
        sys.path.insert(0, str(target))
        module = importlib.import_module("auto_LiRPA")
    except Exception as error:  # not installable or not importable here: skip it, say why
        status = f"{LIRPA} not importable ({type(error).__name__}: {error})"
        print(f"auto_LiRPA skipped: {status}")
        return None, status
    return module, f"{LIRPA} imports (torch {torch.__version__}, pins torch<1.13)"


def dknn_bench(args: argparse.Namespace) -> None:
    from sklearn.neighbors import NearestNeighbors

    from robust.experiments.dknn import LAYERS, K
    from robust.models import build_model

    try:
        import faiss  # noqa: F401

        faiss_status = "imports"
    except ImportError as error:
        faiss_status = f"not installed ({error})"
    data = load_dataset("mnist5000")
    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = build_model(ModelConfig("cnn")).eval()
    table = ResultTable(
        "bench_dknn",
        title=f"DkNN neighbour search, k = {K}: {args.n} queries against {len(data.x_train)} training images per layer",
        data=data.describe(),
        notes=(
            "Randomly initialised cnn (neighbour search cost does not depend on training); one torch thread. "
            f"seconds_sklearn_query excludes the one-off index fit (seconds_sklearn_fit). faiss: {faiss_status}."
        ),
    )
    with torch.no_grad():
        h_train, h_query = data.x_train, data.x_test[: args.n]
        for index, layer in enumerate(model):
            h_train, h_query = layer(h_train), layer(h_query)
            if index not in LAYERS:
                continue
            train, query = h_train.flatten(1).contiguous(), h_query.flatten(1).contiguous()
            train_np, query_np = train.numpy(), query.numpy()
            fitted = NearestNeighbors(n_neighbors=K).fit(train_np)
            ours = np.sort(fitted.kneighbors(query_np, return_distance=False), 1)
            brute = np.sort(torch.cdist(query, train).topk(K, largest=False).indices.numpy(), 1)
            t_fit = measure(lambda t=train_np: NearestNeighbors(n_neighbors=K).fit(t), repeats=args.repeats)
            t_query = measure(
                lambda f=fitted, q=query_np: f.kneighbors(q, return_distance=False), repeats=args.repeats
            ).median
            t_brute = measure(
                lambda q=query, t=train: torch.cdist(q, t).topk(K, largest=False).indices,
                repeats=args.repeats,
            ).median
            table.add(
                layer=f"{index} {type(layer).__name__}",
                dimension=train.shape[1],
                same_neighbour_sets=float((ours == brute).all(1).mean()),
                seconds_sklearn_fit=t_fit.median,
                seconds_sklearn_query=t_query,
                seconds_torch_brute=t_brute,
                speed_ratio=t_brute / t_query,
            )
    _publish(table, args.out, "robust_dknn.json")


TORCHATTACKS = "3.5.1"


def _install_private(target: Path, *specs: str) -> None:
    """``pip install --no-deps --target target specs`` (uv's pip where the venv has none)."""
    import subprocess

    command = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target)]
    try:
        subprocess.run([*command, *specs], check=True)
    except (OSError, subprocess.CalledProcessError):  # a uv venv has no pip: use uv's
        subprocess.run(
            ["uv", "pip", "install", "--quiet", "--no-deps", "--target", str(target), *specs], check=True
        )


def _import_torchattacks(out: Path):  # type: ignore[no-untyped-def]
    """torchattacks from a private folder under `out` (installed there with --no-deps on first use)."""
    import importlib

    target = out / f"torchattacks-{TORCHATTACKS}"
    if not (target / "torchattacks").is_dir():
        _install_private(target, f"torchattacks=={TORCHATTACKS}")
    sys.path.insert(0, str(target))
    return importlib.import_module("torchattacks")


def torchattacks_bench(args: argparse.Namespace) -> None:
    """Our attacks against torchattacks' on the same model, images and budgets."""
    ta = _import_torchattacks(args.out)
    data = load_dataset("mnist5000")
    model = reference_model(args, data).eval()
    x, y = data.x_test[: args.n], data.y_test[: args.n]
    xb, yb = x[: args.batch], y[: args.batch]
    alpha, alpha_l2 = 2.5 * EPS_LINF / STEPS, 2.5 * EPS_L2 / STEPS
    iterative = {"eps": EPS_LINF, "alpha": alpha, "steps": STEPS}
    pairs = {
        "FGSM": (make_attack("fgsm", model, eps=EPS_LINF), ta.FGSM(model, eps=EPS_LINF)),
        "PGD L-inf": (
            make_attack("pgd", model, **iterative),
            ta.PGD(model, **iterative, random_start=True),
        ),
        "PGD L2": (
            make_attack("pgd-l2", model, eps=EPS_L2, alpha=alpha_l2, steps=STEPS),
            ta.PGDL2(model, eps=EPS_L2, alpha=alpha_l2, steps=STEPS, random_start=True),
        ),
        "MI-FGSM": (
            make_attack("mifgsm", model, **iterative, decay=1.0),
            ta.MIFGSM(model, **iterative, decay=1.0),
        ),
        "DI-FGSM": (
            make_attack("difgsm", model, **iterative, resize_rate=0.9, diversity_prob=0.5),
            ta.DIFGSM(model, **iterative, decay=0.0, resize_rate=0.9, diversity_prob=0.5),
        ),
    }

    def run(attack) -> torch.Tensor:  # type: ignore[no-untyped-def]
        return torch.cat(
            [attack(x[i : i + args.batch], y[i : i + args.batch]) for i in range(0, args.n, args.batch)]
        )

    def accuracy(images: torch.Tensor) -> float:
        with torch.no_grad():
            return float((model(images).argmax(1) == y).float().mean())

    table = ResultTable(
        "bench_attacks_torchattacks",
        title=f"robust vs torchattacks {ta.__version__}: robust accuracy on {args.n} images, "
        f"seconds per batch of {args.batch}",
        data=data.describe(),
        notes=(
            f"L-inf eps {EPS_LINF}, L2 eps {EPS_L2}, {STEPS} steps, alpha = 2.5 eps / steps; DI-FGSM resize "
            "0.9, diversity probability 0.5 (both libraries' defaults); one torch thread. '2 SE': twice the "
            "binomial standard error of the difference of two independent accuracies."
        ),
    )
    for label, (ours, theirs) in pairs.items():
        torch.manual_seed(0)
        a = accuracy(run(ours))
        torch.manual_seed(0)
        b = accuracy(run(theirs))
        se = math.sqrt(a * (1 - a) / args.n + b * (1 - b) / args.n)
        t_ours = measure(lambda attack=ours: attack(xb, yb), repeats=args.repeats).median
        t_theirs = measure(lambda attack=theirs: attack(xb, yb), repeats=args.repeats).median
        table.add(
            attack=label,
            robust_acc_robust=a,
            robust_acc_torchattacks=b,
            difference=a - b,
            two_se=2 * se,
            within_noise=abs(a - b) <= 2 * se + 1e-12,
            seconds_robust=t_ours,
            seconds_torchattacks=t_theirs,
            speed_ratio=t_theirs / t_ours,
        )
    _publish(table, args.out, "robust_torchattacks.json")


AT_EPS, AT_STEPS = EPS_LINF, STEPS  # at eps 0.3 one short epoch leaves chance accuracy: no strength check


def adv_train_bench(args: argparse.Namespace) -> None:
    """One epoch of PGD adversarial training: robust's objective vs the same loop with torchattacks' PGD."""
    import dataclasses
    import statistics

    from robust.attacks.pgd import PGD
    from robust.defenses import DefenseConfig
    from robust.defenses.training import _PGDObjective
    from robust.train import run_training

    ta = _import_torchattacks(args.out)
    full = load_dataset("mnist5000")
    data = dataclasses.replace(full, x_train=full.x_train[: args.train], y_train=full.y_train[: args.train])
    alpha = 2.5 * AT_EPS / AT_STEPS
    config = DefenseConfig(
        train=TrainConfig(model=ModelConfig("lenet"), data="mnist5000", epochs=1, seed=0),
        recipe="pgd",
        eps=AT_EPS,
        alpha=alpha,
        steps=AT_STEPS,
    )

    class TorchattacksPGD(_PGDObjective):
        """robust's PGD-AT loss (same `batch_loss`) with torchattacks' PGD as the inner attack."""

        def setup(self, model: torch.nn.Module, device: torch.device) -> None:
            self.attack = ta.PGD(model, eps=AT_EPS, alpha=alpha, steps=AT_STEPS, random_start=True)

        def state_dict(self) -> dict:
            return {}

        def load_state_dict(self, state: dict) -> None:
            pass

    def ours():  # type: ignore[no-untyped-def]
        return run_training(data, config, config.train, _PGDObjective(config, pairing=False))

    def theirs():  # type: ignore[no-untyped-def]
        return run_training(data, config, config.train, TorchattacksPGD(config, pairing=False))

    seconds: dict[str, list[float]] = {"robust": [], "torchattacks": []}
    models = {}
    for _ in range(args.repeats):  # alternate, so load drift hits both alike
        for label, run in (("robust", ours), ("torchattacks", theirs)):
            torch.manual_seed(0)
            model, history = run()
            seconds[label].append(history[-1]["train_seconds"])
            models[label] = (model, history[-1]["test_accuracy"])
    x, y = full.x_test[: args.n], full.y_test[: args.n]

    def robust_accuracy(model: torch.nn.Module, attack) -> float:  # type: ignore[no-untyped-def]
        torch.manual_seed(0)
        adv = torch.cat(
            [attack(x[i : i + args.batch], y[i : i + args.batch]) for i in range(0, args.n, args.batch)]
        )
        with torch.no_grad():
            return float((model(adv).argmax(1) == y).float().mean())

    model = models["robust"][0]
    strength = {
        "robust": robust_accuracy(model, PGD(model, AT_EPS, alpha, AT_STEPS, "linf", True, seed=1)),
        "torchattacks": robust_accuracy(
            model, ta.PGD(model, eps=AT_EPS, alpha=alpha, steps=AT_STEPS, random_start=True)
        ),
    }
    se = math.sqrt(sum(a * (1 - a) for a in strength.values()) / args.n)
    t_ours, t_theirs = statistics.median(seconds["robust"]), statistics.median(seconds["torchattacks"])
    table = ResultTable(
        "bench_adv_train",
        title=(
            f"One epoch of PGD adversarial training of a LeNet on {args.train} MNIST-5000 images: "
            f"robust's objective vs the same loop with torchattacks {ta.__version__}' PGD"
        ),
        data=data.describe(),
        notes=(
            f"L-inf eps {AT_EPS}, {AT_STEPS} steps of {alpha:g} (2.5 eps / steps), random start, batch "
            f"{config.train.batch_size}, Adam 1e-3; same initialisation and batch order; median of "
            f"{args.repeats} alternating repeats; one torch thread. Strength: both PGDs (same budget) attack "
            f"{args.n} test images on the model robust's run trained (robust accuracy {strength['robust']:.3f} "
            f"with robust's PGD, {strength['torchattacks']:.3f} with torchattacks', 2 SE {2 * se:.3f}); "
            "test_pgd_acc: each trained model under robust's PGD at that budget."
        ),
    )
    for label in ("robust", "torchattacks"):
        trained, clean = models[label]
        table.add(
            inner_attack=label,
            epoch_seconds=statistics.median(seconds[label]),
            epoch_seconds_all=[round(v, 3) for v in seconds[label]],
            test_clean_acc=clean,
            test_pgd_acc=robust_accuracy(
                trained, PGD(trained, AT_EPS, alpha, AT_STEPS, "linf", True, seed=1)
            ),
            robust_acc_under_this_pgd=strength[label],
            torchattacks_over_robust=statistics.median(seconds[label]) / t_ours,
        )
    print(f"epoch time torchattacks / robust: {t_theirs / t_ours:.3f}")
    _publish(table, args.out, "robust_adv_train.json")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ibp", action="store_true", help="benchmark IBP bounds instead of the attacks")
    parser.add_argument("--dknn", action="store_true", help="benchmark DkNN's neighbour search instead")
    parser.add_argument(
        "--torchattacks", action="store_true", help="compare with torchattacks (installed under --out)"
    )
    parser.add_argument(
        "--adv-train",
        action="store_true",
        help="time a PGD adversarial-training epoch against torchattacks' PGD",
    )
    parser.add_argument("--train", type=int, default=4000, help="training images (--adv-train)")
    parser.add_argument("--checkpoint", type=Path, default=None)
    parser.add_argument("--n", type=int, default=500, help="test images attacked")
    parser.add_argument("--batch", type=int, default=100, help="images per timed batch")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("runs/bench"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.ibp:
        ibp_bench(args)
        return
    if args.dknn:
        dknn_bench(args)
        return
    if args.torchattacks:
        torchattacks_bench(args)
        return
    if args.adv_train:
        adv_train_bench(args)
        return
    import art
    import art.attacks.evasion as evasion
    from art.estimators.classification import PyTorchClassifier

    data = load_dataset("mnist5000")
    model = reference_model(args, data).eval()
    x, y = data.x_test[: args.n], data.y_test[: args.n]
    classifier = PyTorchClassifier(
        model,
        loss=torch.nn.CrossEntropyLoss(),
        input_shape=tuple(x.shape[1:]),
        nb_classes=10,
        clip_values=(0.0, 1.0),
        device_type="cpu",
    )
    xb, yb = x[: args.batch], y[: args.batch]
    x_np, y_np = x.numpy(), y.numpy()

    def accuracy(images: torch.Tensor) -> float:
        with torch.no_grad():
            return float((model(images).argmax(1) == y).float().mean())

    def same_labels(first: torch.Tensor, second: torch.Tensor) -> float:
        with torch.no_grad():
            return float((model(first).argmax(1) == model(second).argmax(1)).float().mean())

    table = ResultTable(
        "bench_attacks",
        title=f"robust vs ART {art.__version__}: robust accuracy on {args.n} images, seconds per batch of {args.batch}",
        data=data.describe(),
        notes=(
            f"L-inf eps {EPS_LINF}, L2 eps {EPS_L2}, {STEPS} steps, alpha = 2.5 eps / steps; one torch thread. "
            "'2 SE' is twice the binomial standard error of the difference of two independent accuracies; "
            "same_label_share: images on which both libraries' examples get the same predicted label; "
            "max_abs_diff_x_adv: largest pixel difference (0 up to float rounding for the deterministic attacks)."
        ),
    )
    for label, (name, budget, art_name, art_budget) in budgets().items():
        ours = make_attack(name, model, **budget)
        quiet = {} if art_name == "FastGradientMethod" else {"verbose": False}  # FGM takes no verbose
        theirs = getattr(evasion, art_name)(classifier, batch_size=args.batch, **quiet, **art_budget)
        ours_adv = torch.cat(
            [ours(x[i : i + args.batch], y[i : i + args.batch]) for i in range(0, args.n, args.batch)]
        )
        theirs_adv = torch.as_tensor(theirs.generate(x_np, y=y_np))
        a, b = accuracy(ours_adv), accuracy(theirs_adv)
        se = math.sqrt(a * (1 - a) / args.n + b * (1 - b) / args.n)
        t_ours = measure(lambda attack=ours: attack(xb, yb), repeats=args.repeats).median
        t_theirs = measure(
            lambda attack=theirs: attack.generate(xb.numpy(), y=yb.numpy()), repeats=args.repeats
        ).median
        table.add(
            attack=label,
            robust_acc_robust=a,
            robust_acc_art=b,
            difference=a - b,
            two_se=2 * se,
            within_noise=abs(a - b) <= 2 * se + 1e-12,
            same_label_share=same_labels(ours_adv, theirs_adv),
            max_abs_diff_x_adv=float((ours_adv - theirs_adv).abs().max()),
            seconds_robust=t_ours,
            seconds_art=t_theirs,
            speed_ratio=t_theirs / t_ours,
        )
    _publish(table, args.out, "robust.json")


if __name__ == "__main__":
    main()
