"""``genmodels cactus``: CACTUs meta-training on a few-shot split by class, evaluated on held-out classes.

`add_meta_commands` is called by `genmodels.cli.main`; the handler imports torch when it runs.
"""

from __future__ import annotations

import argparse

from core.cli import (
    add_config_arguments,
    add_out_option,
    add_seed_option,
    add_threads_option,
    config_from_args,
    positive_int,
)
from genmodels.meta.config import CactusConfig, MetaConfig


def _cactus(args: argparse.Namespace) -> int:
    import numpy as np

    from core.errors import InputError
    from core.results import ResultTable
    from genmodels.data import ImageSet, load_images
    from genmodels.meta.cactus import (
        baseline_accuracy,
        few_shot_accuracy,
        fit_meta,
        kmeans_partitions,
        vae_embedding,
    )
    from genmodels.meta.fewshot import PartitionSampler, TaskSampler, class_split

    images = load_images(args.data)
    if images.labels is None:
        raise InputError(
            "few-shot evaluation needs class labels", item=images.source, expected="an .npz with labels"
        )
    train_classes, test_classes = class_split(images.labels, args.test_classes, seed=args.seed)
    parts = [np.isin(images.labels, c) for c in (train_classes, test_classes)]
    train, test = (ImageSet(images.images[m], images.labels[m], images.source) for m in parts)
    meta = config_from_args(MetaConfig, args, seed=args.seed)
    cactus = config_from_args(CactusConfig, args, seed=args.seed)
    z_train, z_test = vae_embedding(train, test, args.vae_epochs, args.seed)
    sampler = PartitionSampler(kmeans_partitions(z_train, cactus), meta.ways, meta.shots, meta.queries)
    tests = TaskSampler(test.labels, meta.ways, meta.shots, meta.queries)
    learner = fit_meta(train.tensor(), sampler, meta)
    table = ResultTable(
        "cactus",
        title=f"CACTUs-{meta.method}, {meta.ways}-way {meta.shots}-shot on held-out classes {list(test_classes)}",
        data=images.source,
    )
    for method, (mean, half) in {
        f"CACTUs-{meta.method}": few_shot_accuracy(learner, test.tensor(), tests, args.tasks, args.seed),
        "embedding knn": baseline_accuracy("knn", z_test, tests, args.tasks, args.seed),
        "embedding linear": baseline_accuracy("linear", z_test, tests, args.tasks, args.seed),
    }.items():
        table.add(method=method, accuracy=mean, ci95=half, tasks=args.tasks)
    print(table.to_markdown())
    print(f"written: {table.save(args.out)}")
    return 0


def add_meta_commands(commands) -> None:
    """Add ``cactus`` to the ``genmodels`` sub-command parsers."""
    cactus = commands.add_parser(
        "cactus",
        help="CACTUs: k-means tasks on a VAE embedding, MAML/ProtoNets meta-training, few-shot test on held-out classes",
    )
    cactus.add_argument(
        "--data", default="digits", help="digits, mnist-5000 or an .npz with images and labels"
    )
    cactus.add_argument("--test-classes", type=positive_int, default=5, help="held-out classes (default: 5)")
    cactus.add_argument(
        "--vae-epochs", type=positive_int, default=30, help="epochs of the embedding VAE (default: 30)"
    )
    cactus.add_argument("--tasks", type=positive_int, default=200, help="test tasks (default: 200)")
    add_config_arguments(cactus, MetaConfig, exclude=["seed"])
    add_config_arguments(cactus, CactusConfig, exclude=["seed"])
    add_seed_option(cactus)
    add_threads_option(cactus)
    add_out_option(cactus, "runs/genmodels-cactus", what="the result table")
    cactus.set_defaults(handler=_cactus)
