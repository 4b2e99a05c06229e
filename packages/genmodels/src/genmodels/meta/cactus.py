"""CACTUs (Hsu, Levine & Finn 2019): tasks from k-means clusters of an unsupervised embedding,
meta-learned with MAML or ProtoNets, judged on real N-way K-shot tasks of held-out classes.

>>> partitions = kmeans_partitions(embedding, CactusConfig(partitions=20, clusters=10))
>>> sampler = PartitionSampler(partitions, ways=5, shots=1, queries=5)
>>> learner = fit_meta(images, sampler, MetaConfig(method="protonets"))
>>> few_shot_accuracy(learner, images, test_sampler, tasks=200)    # (mean, 95 % half-width)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from core.checkpoint import load_checkpoint, load_state_into, save_checkpoint
from core.errors import InputError
from core.progress import progress
from genmodels.meta.config import CactusConfig, MetaConfig
from genmodels.meta.fewshot import Task, confidence_interval
from genmodels.meta.maml import MAMLNet
from genmodels.meta.protonets import ProtoNet

__all__ = [
    "MetaLearner",
    "baseline_accuracy",
    "few_shot_accuracy",
    "fit_meta",
    "kmeans_partitions",
    "vae_embedding",
]


def kmeans_partitions(embedding: np.ndarray, config: CactusConfig) -> np.ndarray:
    """``(partitions, n)`` cluster ids: one scikit-learn k-means run per partition on ``embedding (n, d)``.

    As in the paper, each run sees the embedding with every dimension rescaled by a factor drawn
    uniformly in [0.5, 1.5) (``config.rescale``), so the partitions differ beyond k-means' seed.
    """
    from sklearn.cluster import KMeans

    embedding = np.asarray(embedding, dtype=np.float64)
    if embedding.ndim != 2 or len(embedding) < config.clusters:
        raise InputError("the embedding must be (n, d) with n >= clusters", item=embedding.shape)
    rng = np.random.default_rng(config.seed)
    rows = []
    for _ in range(config.partitions):
        scale = rng.uniform(0.5, 1.5, embedding.shape[1]) if config.rescale else 1.0
        km = KMeans(config.clusters, n_init=1, random_state=int(rng.integers(2**31)))
        rows.append(km.fit_predict(embedding * scale))
    return np.stack(rows)


@dataclass
class MetaLearner:
    """A meta-trained ProtoNet or MAML initialisation, with its config and per-step loss history."""

    model: ProtoNet | MAMLNet
    config: MetaConfig
    history: list[float]

    def predict(self, xs: Tensor, ys: Tensor, xq: Tensor) -> Tensor:
        """``(len(xq),)`` predicted task labels of the queries after seeing the support set."""
        c = self.config
        if isinstance(self.model, ProtoNet):
            with torch.no_grad():
                return self.model.logits(xs, ys, xq, c.ways).argmax(1)
        with torch.enable_grad():
            weights = self.model.adapt(xs, ys, c.inner_steps, c.inner_lr)
        with torch.no_grad():
            return self.model(xq, [w.detach() for w in weights]).argmax(1)


def _task_loss(model: ProtoNet | MAMLNet, config: MetaConfig, x: Tensor, task: Task) -> Tensor:
    xs, xq = x[task.support], x[task.query]
    ys, yq = torch.from_numpy(task.support_labels), torch.from_numpy(task.query_labels)
    if isinstance(model, ProtoNet):
        logits = model.logits(xs, ys, xq, config.ways)
    else:
        weights = model.adapt(
            xs, ys, config.inner_steps, config.inner_lr, create_graph=not config.first_order
        )
        logits = model(xq, weights)
    return F.cross_entropy(logits, yq)


def fit_meta(
    images: Tensor,
    sampler,
    config: MetaConfig,
    *,
    checkpoint: str | Path | None = None,
    checkpoint_every: int = 100,
    on_step: Callable[[int, float], None] | None = None,
) -> MetaLearner:
    """Meta-train on tasks from `sampler` (a `TaskSampler` on labels, or CACTUs' `PartitionSampler`).

    Args:
        images: ``(n, ...)`` float tensor; the sampler's indices point into it.
        sampler: must make ``config.ways``-way tasks (its ways/shots/queries are used as given).
        checkpoint: ``.safetensors`` file (model, optimizer, task RNG state, history, stamped with
            `config`) written every `checkpoint_every` steps and at the end; when it exists the run
            resumes from it bit for bit (the config must match except the extendable ``steps``). The
            sampler is not stamped: use one file per sampler.
        on_step: called with ``(step, loss)`` (0-based) after the step's checkpoint is written.

    Raises:
        CheckpointMismatchError: resuming under a config that differs in a field other than ``steps``.
        InputError: the checkpoint has more steps than ``config.steps``.
    """
    if isinstance(checkpoint_every, bool) or not isinstance(checkpoint_every, int) or checkpoint_every < 1:
        raise InputError("checkpoint_every must be an integer >= 1", item=checkpoint_every)
    x = images.flatten(1).float()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        model = (
            ProtoNet(x.shape[1], config.hidden)
            if config.method == "protonets"
            else MAMLNet(x.shape[1], config.hidden, config.ways)
        )
    optimizer = torch.optim.Adam(model.parameters(), lr=config.learning_rate)
    rng = np.random.default_rng(config.seed)
    history: list[float] = []
    done = 0
    path = Path(checkpoint) if checkpoint is not None else None
    if path is not None and path.exists():
        saved = load_checkpoint(path, MetaConfig, resume=config)
        done, history = int(saved.extra["step"]), list(saved.extra["history"])
        if done > config.steps:
            raise InputError(
                "checkpoint has more steps than MetaConfig.steps", item=f"{path}: {done} > {config.steps}"
            )
        load_state_into(model, saved.state["model"], source=path)
        optimizer.load_state_dict(saved.state["optimizer"])
        rng.bit_generator.state = saved.extra["rng"]

    def save(step: int) -> None:
        state = {"model": model.state_dict(), "optimizer": optimizer.state_dict()}
        extra = {"step": step, "history": history, "rng": rng.bit_generator.state}
        save_checkpoint(path, state, config, extra=extra)

    for step in progress(range(done, config.steps), desc=f"meta-{config.method}", total=config.steps - done):
        optimizer.zero_grad()
        loss = (
            sum(_task_loss(model, config, x, sampler.sample(rng)) for _ in range(config.meta_batch))
            / config.meta_batch
        )
        loss.backward()
        optimizer.step()
        history.append(float(loss.detach()))
        if path is not None and ((step + 1) % checkpoint_every == 0 or step + 1 == config.steps):
            save(step + 1)
        if on_step is not None:
            on_step(step, history[-1])
    if path is not None and done == config.steps and not path.exists():
        save(done)
    return MetaLearner(model, config, history)


def few_shot_accuracy(learner, images: Tensor, sampler, tasks: int, seed: int = 0) -> tuple[float, float]:
    """Mean query accuracy over `tasks` tasks from `sampler` and its 95 % half-width.

    `learner` is a `MetaLearner` or any callable ``(xs, ys, xq) -> predicted labels``.
    """
    predict = learner.predict if isinstance(learner, MetaLearner) else learner
    x = images.flatten(1).float()
    rng = np.random.default_rng(seed)
    accuracies = []
    for _ in range(tasks):
        task = sampler.sample(rng)
        guess = predict(x[task.support], torch.from_numpy(task.support_labels), x[task.query])
        accuracies.append(
            float((torch.as_tensor(guess) == torch.from_numpy(task.query_labels)).float().mean())
        )
    return confidence_interval(np.asarray(accuracies))


def baseline_accuracy(
    kind: str, embedding: np.ndarray, sampler, tasks: int, seed: int = 0
) -> tuple[float, float]:
    """The embedding baselines on the same tasks: "knn" (1-nearest neighbour, scikit-learn) or
    "linear" (logistic regression probe, scikit-learn), each fit on the support embeddings only."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.neighbors import KNeighborsClassifier

    if kind not in ("knn", "linear"):
        raise InputError("unknown baseline", item=kind, expected="knn or linear")

    def predict(zs: Tensor, ys: Tensor, zq: Tensor) -> np.ndarray:
        model = KNeighborsClassifier(1) if kind == "knn" else LogisticRegression(max_iter=1000)
        return model.fit(zs.numpy(), ys.numpy()).predict(zq.numpy())

    return few_shot_accuracy(
        predict, torch.from_numpy(np.asarray(embedding, dtype=np.float32)), sampler, tasks, seed
    )


def vae_embedding(train, test, epochs: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Posterior means ``(n, 16)`` of `train` and `test` (`ImageSet`s) under this package's MLP VAE
    (256 hidden units, z of 16, Bernoulli) fit on `train` alone for `epochs` epochs, no labels used."""
    from genmodels.config import ObjectiveConfig, TrainConfig, VAEConfig, VAERunConfig
    from genmodels.vae.training import fit_vae

    config = VAERunConfig(
        VAEConfig(image_shape=train.shape, latent_dim=16, hidden=(256,), likelihood="bernoulli"),
        ObjectiveConfig(kind="elbo"),
        TrainConfig(epochs=epochs, seed=seed),
    )
    model = fit_vae(train, config).model
    with torch.no_grad():
        return tuple(model.encode(s.tensor())[0].numpy() for s in (train, test))  # type: ignore[return-value]
