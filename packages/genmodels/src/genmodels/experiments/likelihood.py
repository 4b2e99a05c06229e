"""``reproduce genmodels --only likelihood``: what a flow's likelihood says about inputs from other data.

Two findings, on the dataset pairs of `genmodels.ood_data` (16 x 16, 256 levels, built from the
bundled digit sets; the papers' CIFAR-10/SVHN and FashionMNIST/MNIST files are not bundled):

- Nalisnick et al. (2019): a flow trained on one data set can give another a *higher* likelihood
  (their CIFAR-10 -> SVHN, FashionMNIST -> MNIST), in Glow and in the constant-volume Glow alike;
  for the constant-volume flow the gap is predicted by a second-order expansion from the two data
  sets' per-dimension variances and the model's curvature at the training mean (their sec. 5),
  and for Glow the split into density and volume terms shows which term carries it (sec. 4).
- Choi, Jang & Alemi (2018): WAIC over an ensemble of independently trained models
  (``mean - variance`` of the members' log-likelihoods) as the OoD score, against the single
  model's likelihood, by AUROC and AUPR (out-of-distribution positive).

Protocol: flows trained on ``mnist`` (an ensemble of Glows with different seeds, and one
constant-volume Glow) and on ``digits`` (one of each, the reverse direction), each on its 80 %
training split; everything is scored on held-out images with one seeded dequantisation draw.
"""

from __future__ import annotations

import copy
from dataclasses import replace

import numpy as np
import torch

from core.cli import RunOptions
from core.plots import new_figure, save_figure
from core.results import ResultTable
from genmodels.config import FlowConfig, FlowRunConfig
from genmodels.ood import aupr, auroc, second_order_expansion, waic
from genmodels.ood_data import LEVELS, ood_sets, quantize

__all__ = ["SETTINGS", "run"]

SETTINGS = {
    "smoke": {"levels": 2, "steps": 4, "hidden": 32, "epochs": 20, "members": 5, "synthetic": 1000},
    "full": {"levels": 2, "steps": 16, "hidden": 256, "epochs": 200, "members": 5, "synthetic": 5000},
}
"""Flow size, epochs, ensemble size and number of constant/noise images per scale (hours: README)."""

PAPER = (
    "Paper (Nalisnick et al. 2019, Glow, bits/dim; quoted from memory of their fig. 1 / table, not re-checked "
    "here): trained on CIFAR-10, about 3.46 on CIFAR-10-test vs 2.39 on SVHN-test; trained on FashionMNIST, "
    "about 2.96 on its test split vs 1.83 on MNIST-test (lower bits/dim = higher likelihood for the other set)."
    " Not in ../shared/papers/genmodels.md (it gives no numbers for this paper), so unverified here."
)


def _flow_config(
    settings: dict, coupling: str, shape: tuple[int, ...], seed: int, epochs: int
) -> FlowRunConfig:
    base = FlowRunConfig()
    model = FlowConfig(
        image_shape=shape,
        levels=settings["levels"],
        steps=settings["steps"],
        hidden=settings["hidden"],
        coupling=coupling,
        grey_levels=LEVELS,
    )
    return FlowRunConfig(model, replace(base.train, epochs=epochs, seed=seed), base.max_grad_norm)


def _moments(images: torch.Tensor, seed: int) -> tuple[torch.Tensor, np.ndarray]:
    """Mean ``(1, c, h, w)`` and per-dimension variance ``(D,)`` of one dequantised draw (the flow's input)."""
    from genmodels.flows import dequantize

    y = dequantize(images, LEVELS, torch.Generator().manual_seed(seed)).double()
    return y.mean(0, keepdim=True), y.flatten(1).var(0).numpy()


def run(options: RunOptions) -> list[ResultTable]:
    """Train the flows, publish bits/dim, the Nalisnick comparison and the WAIC table, plot the histograms."""
    from genmodels.flows import fit_flow, flow_log_likelihood

    settings = SETTINGS[options.scale]
    folder = options.out / "likelihood"
    sets = ood_sets(options.seed, synthetic=settings["synthetic"])
    mnist_train, mnist_test = sets["mnist"].split(0.2, seed=options.seed)
    digits_train, digits_test = sets["digits"].split(0.2, seed=options.seed)
    n_test = len(mnist_test)
    evaluation = {
        "mnist": mnist_test.tensor(),
        "digits": digits_test.tensor(),
        "inverted": torch.from_numpy(1.0 - mnist_test.images),
        "low-contrast": torch.from_numpy(quantize(0.5 * mnist_test.images)),
        "constant": sets["constant"].tensor(),
        "noise": sets["noise"].tensor(),
    }
    training = {"mnist": mnist_train, "digits": digits_train}
    shape = mnist_train.shape

    models: dict[str, tuple[str, str, object]] = {}  # tag -> (trained on, coupling, model)
    plan = [("mnist", "affine", options.seed + m) for m in range(settings["members"])]
    plan += [
        ("mnist", "additive", options.seed),
        ("digits", "affine", options.seed),
        ("digits", "additive", options.seed),
    ]
    for data, coupling, seed in plan:
        tag = f"{data}-{coupling}-seed{seed}"
        config = _flow_config(settings, coupling, shape, seed, settings["epochs"])
        run_ = fit_flow(training[data], config, checkpoint=folder / f"{tag}.safetensors")
        # scored in float64: off-support images (e.g. inverted) overflow float32's z^2 to inf
        models[tag] = (data, coupling, copy.deepcopy(run_.model).double())

    # per-image terms of every model on every evaluation set (and its own training split)
    scores: dict[str, dict[str, dict[str, torch.Tensor]]] = {}
    for tag, (data, _, model) in models.items():
        sets_here = {"train": training[data].tensor()[:n_test], **evaluation}
        sets_here = {name: x.double() for name, x in sets_here.items()}
        scores[tag] = {
            name: flow_log_likelihood(model, x, seed=options.seed) for name, x in sets_here.items()
        }

    tables = [
        _bits_table(options, models, scores, settings),
        _nalisnick_table(options, models, scores, training, evaluation),
        _waic_table(options, models, scores, settings),
    ]
    first = f"mnist-affine-seed{options.seed}"
    _histograms(scores[first], folder / "likelihood_histograms.png", "Glow trained on mnist (16 x 16)")
    cv = f"mnist-additive-seed{options.seed}"
    _histograms(scores[cv], folder / "likelihood_histograms_cv.png", "constant-volume Glow trained on mnist")
    _samples(models[first][2], folder / "likelihood_samples.png", options.seed)
    return tables


def _bits_table(options, models, scores, settings) -> ResultTable:
    table = ResultTable(
        "likelihood_bpd",
        title="Bits/dim of flows on their own held-out data and on other data (lower = more likely)",
        data="genmodels.ood_data: mnist-5000 and sklearn digits on a 16 x 16 grid, 256 levels; constant and noise images",
    )
    for tag, (data, coupling, _) in models.items():
        row: dict[str, object] = {
            "model": "Glow" if coupling == "affine" else "CV-Glow",
            "trained on": data,
            "seed": tag.rsplit("seed", 1)[1],
        }
        for name, terms in scores[tag].items():
            label = "own train" if name == "train" else ("own test" if name == data else name)
            row[label] = float(terms["bpd"].mean())
        table.add(**row)
    table.notes = (
        f"{settings['levels']} levels x {settings['steps']} steps, coupling CNNs of {settings['hidden']} channels, "
        f"{settings['epochs']} epochs of batch 64 (Adam 1e-3); bits/dim with the uniform-dequantisation correction "
        "(one seeded draw, float64), means over the held-out images (20 % split), the first 1,000 training images, and "
        f"{settings['synthetic']} constant / noise images. 'inverted' = 1 - the mnist test images, 'low-contrast' = "
        "0.5 x them (constructed: lower variance on the same support). " + PAPER
    )
    options.publish(table)
    return table


def _nalisnick_table(options, models, scores, training, evaluation) -> ResultTable:
    table = ResultTable(
        "likelihood_second_order",
        title="Log-likelihood gap E_q[log p] - E_p*[log p] (nats per image): measured vs the second-order prediction, and its density/volume split",
        data="genmodels.ood_data (16 x 16, 256 levels)",
    )
    for tag, (data, coupling, model) in models.items():
        if coupling == "affine" and not tag.endswith(f"seed{options.seed}"):
            continue
        mean_p, var_p = _moments(training[data].tensor(), options.seed)
        own = scores[tag][data]

        def log_prob(x, model=model):
            return model.log_prob(x).log_prob.sum()

        for name in evaluation:
            if name == data:
                continue
            mean_q, var_q = _moments(evaluation[name], options.seed)
            predicted = second_order_expansion(log_prob, mean_p, var_p, mean_q, var_q)
            other = scores[tag][name]
            table.add(
                model="Glow" if coupling == "affine" else "CV-Glow",
                **{"trained on (p*)": data, "other (q)": name},
                measured=float(other["log_prob"].mean() - own["log_prob"].mean()),
                **{
                    "predicted, variances (paper)": predicted["variance"],
                    "predicted, + mean shift": predicted["total"],
                    "density gap": float(other["density"].mean() - own["density"].mean()),
                    "volume gap": float(other["volume"].mean() - own["volume"].mean()),
                    "q more likely": float((other["log_prob"] > own["log_prob"].median()).float().mean()),
                },
            )
    table.notes = (
        "measured: mean log p (continuous, dequantised input, nats per image) on q minus on p*'s held-out split. "
        "predicted, variances: Nalisnick et al.'s 1/2 sum_d H_dd(x0) (var_q,d - var_p*,d), H the Hessian of log p "
        "at the training mean x0 (autograd); + mean shift adds g.(mu_q - mu_p*) + 1/2 (mu_q - mu_p*)' H (mu_q - mu_p*), "
        "which their expansion drops because CIFAR-10 and SVHN have similar means. density/volume gap: the same "
        "difference of log N(f(x)) and of log|det df/dx| (the CV-Glow's volume gap is 0 by construction). "
        "q more likely: the fraction of q's images above p*'s median log-likelihood. Paper (sec. 5, CV-Glow on "
        "CIFAR-10 -> SVHN): the variance term predicts the sign of the gap (SVHN's smaller variances give it the "
        "higher likelihood); sec. 4: in Glow the gap comes mostly from the volume term."
    )
    options.publish(table)
    return table


def _waic_table(options, models, scores, settings) -> ResultTable:
    members = [tag for tag, (data, coupling, _) in models.items() if data == "mnist" and coupling == "affine"]
    table = ResultTable(
        "likelihood_waic",
        title=f"OoD detection for Glows trained on mnist: single-model likelihood vs WAIC over {len(members)} members",
        data="genmodels.ood_data (16 x 16, 256 levels)",
    )
    log_in = np.stack([scores[t]["mnist"]["log_prob"].double().numpy() for t in members])
    for name in ("digits", "inverted", "low-contrast", "constant", "noise"):
        log_out = np.stack([scores[t][name]["log_prob"].double().numpy() for t in members])
        for score, a, b in (
            ("-log p, one model", -log_in[0], -log_out[0]),
            ("-mean log p, ensemble", -log_in.mean(0), -log_out.mean(0)),
            ("ensemble variance", log_in.var(0), log_out.var(0)),
            ("-WAIC", -waic(log_in), -waic(log_out)),
        ):
            table.add(**{"out of distribution": name, "score": score}, auroc=auroc(a, b), aupr=aupr(a, b))
    table.notes = (
        f"In-distribution: the {log_in.shape[1]} mnist test images; positives: the other set's images "
        f"({settings['synthetic']} constant/noise). AUROC 0.5 is chance, below 0.5 means the score ranks the other "
        "set as *more* in-distribution. WAIC = mean - variance of the members' log p (nats), members differing "
        "only in their seed. Paper (Choi et al. 2018, as tabulated for their Glow WAIC ensemble): AUROC 1.00 "
        "for CIFAR-10 vs SVHN and 0.766 for FashionMNIST vs MNIST (quoted, not rerun here)."
        " Not in ../shared/papers/genmodels.md (it gives no numbers for this paper), so unverified here."
    )
    options.publish(table)
    return table


def _histograms(scores: dict[str, dict[str, torch.Tensor]], path, title: str) -> None:
    figure = new_figure(6.4, 3.6)
    axis = figure.add_subplot(1, 1, 1)
    values = {name: terms["bpd"].numpy() for name, terms in scores.items()}
    finite = np.concatenate([v[np.isfinite(v)] for v in values.values()])
    bins = np.linspace(np.percentile(finite, 0.5), np.percentile(finite, 99.5), 60)
    for name, v in values.items():
        axis.hist(np.clip(v, bins[0], bins[-1]), bins=bins, histtype="step", density=True, label=name)
    axis.set_xlabel("bits/dim (lower = more likely)")
    axis.set_ylabel("density")
    axis.set_title(title, fontsize=8)
    axis.legend(fontsize=6)
    save_figure(figure, path)


def _samples(model, path, seed: int) -> None:
    images = model.sample(64, torch.Generator().manual_seed(seed), temperature=0.7).numpy()
    figure = new_figure(4, 4)
    for i, image in enumerate(images):
        axis = figure.add_subplot(8, 8, i + 1)
        axis.imshow(image[0], cmap="gray", vmin=0, vmax=1)
        axis.set_xticks([])
        axis.set_yticks([])
    save_figure(figure, path)
