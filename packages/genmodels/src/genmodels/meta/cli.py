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
from genmodels.meta.config import CactusConfig, MetaConfig, UpdateRuleConfig


def _cactus(args: argparse.Namespace) -> int:
    import hashlib

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
    # the checkpoint is stamped with MetaConfig; the file name fingerprints what builds the tasks
    settings = repr((args.data, args.test_classes, args.vae_epochs, cactus))
    name = f"meta-{hashlib.sha256(settings.encode()).hexdigest()[:12]}.safetensors"
    learner = fit_meta(train.tensor(), sampler, meta, checkpoint=args.out / name)
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


def _update_rule(args: argparse.Namespace) -> int:
    import numpy as np
    import torch

    from core.errors import InputError
    from core.results import ResultTable
    from genmodels.data import load_images
    from genmodels.meta.fewshot import TaskSampler, class_split
    from genmodels.meta.update_rule import features, meta_train, readout_accuracy, unsupervised_train

    images = load_images(args.data)
    if images.labels is None:
        raise InputError(
            "meta-training needs class labels", item=images.source, expected="an .npz with labels"
        )
    train_classes, test_classes = class_split(images.labels, args.test_classes, seed=args.seed)
    tr, te = (np.isin(images.labels, c) for c in (train_classes, test_classes))
    config = config_from_args(UpdateRuleConfig, args, seed=args.seed)
    rule, history, _ = meta_train(
        torch.from_numpy(images.images[tr]),
        images.labels[tr],
        config,
        checkpoint=args.out / "rule.safetensors",
    )
    x, y = torch.from_numpy(images.images[te]), images.labels[te]
    sampler = TaskSampler(y, config.ways, config.shots, config.queries)
    widths = tuple(args.eval_widths)
    table = ResultTable(
        "update_rule",
        title=f"Learned update rule, {config.ways}-way {config.shots}-shot readout on held-out classes "
        f"{[int(c) for c in test_classes]}, base net {'-'.join(map(str, widths))}",
        data=images.source,
    )
    for steps in (0, config.inner_steps):
        params = unsupervised_train(rule, x, widths, steps, batch=config.inner_batch, seed=args.seed)
        mean, half = readout_accuracy(
            lambda v, p=params: features(p, v), x, sampler, args.tasks, ridge=config.ridge, seed=args.seed
        )
        method = "random features" if steps == 0 else f"learned rule, {steps} unsupervised steps"
        table.add(method=method, accuracy=mean, ci95=half, tasks=args.tasks)
    if history:
        table.notes = f"meta-training: {history[-1]['step']} steps, last loss {history[-1]['loss']:.4f}"
    print(table.to_markdown())
    print(f"written: {table.save(args.out)}")
    return 0


def add_meta_commands(commands) -> None:
    """Add ``cactus`` and ``update-rule`` to the ``genmodels`` sub-command parsers."""
    cactus = commands.add_parser(
        "cactus",
        help="CACTUs: k-means tasks on a VAE embedding, MAML/ProtoNets meta-training, few-shot test on held-out classes",
        description=(
            "Meta-training checkpoints to OUT/meta-<fingerprint of data and task settings>.safetensors: run again to "
            "resume, or with a larger --steps to extend; another MetaConfig field is refused."
        ),
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
    add_out_option(cactus, "runs/genmodels-cactus", what="the meta-training checkpoint and the result table")
    cactus.set_defaults(handler=_cactus)

    rule = commands.add_parser(
        "update-rule",
        help="meta-train Metz et al.'s unsupervised update rule (resumable), test it on held-out classes",
        description=(
            "Meta-train on the meta-train classes, checkpointing to OUT/rule.safetensors (run again to resume, "
            "or with a larger --meta-steps to extend); then run the rule without labels on the held-out classes' "
            "images and print the ridge-readout accuracy against the same net's random features."
        ),
    )
    rule.add_argument("--data", default="digits", help="digits, mnist-5000 or an .npz with images and labels")
    rule.add_argument("--test-classes", type=positive_int, default=5, help="held-out classes (default: 5)")
    rule.add_argument(
        "--eval-widths", type=positive_int, nargs="+", default=[64, 64], help="test base net (default: 64 64)"
    )
    rule.add_argument("--tasks", type=positive_int, default=200, help="test tasks (default: 200)")
    add_config_arguments(rule, UpdateRuleConfig, exclude=["seed"])
    add_seed_option(rule)
    add_threads_option(rule)
    add_out_option(rule, "runs/genmodels-update-rule", what="the rule's checkpoint and the result table")
    rule.set_defaults(handler=_update_rule)
