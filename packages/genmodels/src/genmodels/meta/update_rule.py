"""Meta-learning an unsupervised update rule (Metz, Maheswaranathan, Cheung & Sohl-Dickstein 2019), scaled down.

A base MLP (any widths and depth, any input size) learns from unlabelled images by a learned,
neuron-local rule instead of gradient descent on a loss. Per example, every neuron has a feature
vector ``u = [z, h, d]``: its layer-normalised pre-activation, its ReLU output and a top-down
signal ``d`` (computed at the top layer by a small MLP of ``[z, h]`` and sent down through the
forward weights' transpose, as the paper's backward pass is, with the transposes in place of its
learned backward weights). Two small MLPs shared by every neuron turn ``u`` into a post-synaptic
vector ``q`` and a pre-synaptic vector ``p``; the update of the weight from neuron i to neuron j is

    dW_ij = mean_b sum_k q_jk(b) p_ik(b) + mean_b a_j(b) W_ij,    db_j = mean_b c_j(b)

(``a`` and ``c`` two more outputs of the post-synaptic MLP), applied as ``W <- W + lr * dW`` and
each row then rescaled to its previous norm (Metz et al. normalise the rows too). Nothing in it
depends on a layer's width or index, so one rule trains any MLP. With every parameter zero the
MLPs output zero and the weights do not move.

Meta-objective: after unsupervised steps on unlabelled batches, the top layer's features of an
N-way K-shot task are fit by a ridge regression on the support set (closed form, differentiable)
and scored by its mean squared error on the queries; the meta-gradient flows back through the
unsupervised steps to the rule (truncated backprop: the unroll is cut every ``truncation`` steps,
with a meta-loss at each cut).

>>> rule, history = meta_train(images, labels, UpdateRuleConfig(meta_steps=300))
>>> params = unsupervised_train(rule, unlabelled, widths=(64, 64), steps=10)
>>> readout_accuracy(lambda x: features(params, x), images, TaskSampler(labels, 5, 5, 10), tasks=200)
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from core.checkpoint import load_checkpoint, save_checkpoint
from core.errors import InputError
from core.progress import progress
from genmodels.meta.config import UpdateRuleConfig
from genmodels.meta.fewshot import confidence_interval

__all__ = [
    "UpdateRule",
    "autoencoder_train",
    "base_net",
    "features",
    "meta_train",
    "readout_accuracy",
    "ridge_readout",
    "rule_step",
    "standardise",
    "unsupervised_train",
]

Params = list[tuple[Tensor, Tensor]]


def standardise(x: Tensor) -> Tensor:
    """Each image flattened to zero mean and unit variance over its pixels (the base nets' input)."""
    x = x.flatten(1).float()
    return (x - x.mean(1, keepdim=True)) / (x.std(1, keepdim=True) + 1e-5)


def base_net(in_features: int, widths: tuple[int, ...], generator: torch.Generator | None = None) -> Params:
    """A base MLP's ``[(W (out, in), b (out,)), ...]``: W ~ N(0, 1 / in), b = 0."""
    if not widths or any(w < 1 for w in widths):
        raise InputError("a base net needs at least one layer of width >= 1", item=widths)
    params, size = [], in_features
    for width in widths:
        params.append((torch.randn(width, size, generator=generator) / math.sqrt(size), torch.zeros(width)))
        size = width
    return params


def _layer_norm(z: Tensor) -> Tensor:
    return (z - z.mean(1, keepdim=True)) / (z.std(1, keepdim=True) + 1e-5)


def _forward(params: Params, x: Tensor) -> tuple[list[Tensor], list[Tensor]]:
    """Per layer (input first): layer-normalised pre-activations and ReLU outputs, each ``(B, width)``."""
    pres, posts, h = [x], [x], x
    for w, b in params:
        z = _layer_norm(F.linear(h, w, b))
        h = F.relu(z)
        pres.append(z)
        posts.append(h)
    return pres, posts


def features(params: Params, x: Tensor) -> Tensor:
    """The top layer's ReLU features of standardised images `x` (the representation read out)."""
    return _forward(params, standardise(x))[1][-1]


def _mlp(inputs: int, hidden: int, outputs: int) -> nn.Sequential:
    net = nn.Sequential(nn.Linear(inputs, hidden), nn.Tanh(), nn.Linear(hidden, outputs))
    with torch.no_grad():
        net[2].weight.mul_(0.1)
        net[2].bias.zero_()
    return net


class UpdateRule(nn.Module):
    """The learned neuron-local rule: the top-down MLP, the post- and pre-synaptic MLPs and a log step size."""

    def __init__(self, hidden: int = 16, channels: int = 4):
        super().__init__()
        self.channels = channels
        self.top = _mlp(2, hidden, 1)
        self.post = _mlp(3, hidden, channels + 2)
        self.pre = _mlp(3, hidden, channels)
        self.log_lr = nn.Parameter(torch.tensor(math.log(0.1)))

    def updates(self, params: Params, x: Tensor) -> list[tuple[Tensor, Tensor]]:
        """``[(dW, db), ...]`` for every layer from one unlabelled batch `x` (standardised, ``(B, in)``)."""
        pres, posts = _forward(params, x)
        d = self.top(torch.stack([pres[-1], posts[-1]], -1)).squeeze(-1)  # (B, top width)
        signals = [d]
        for w, _ in reversed(params):
            d = d @ w / math.sqrt(w.shape[0])
            signals.append(d)
        signals.reverse()  # signals[l]: (B, width of layer l), layer 0 = input
        units = [torch.stack([z, h, s], -1) for z, h, s in zip(pres, posts, signals)]
        k, batch, result = self.channels, x.shape[0], []
        for layer, (w, _) in enumerate(params):
            q = self.post(units[layer + 1])  # (B, out, k + 2)
            p = self.pre(units[layer])  # (B, in, k)
            dw = torch.einsum("bok,bik->oi", q[..., :k], p) / batch + q[..., k].mean(0)[:, None] * w
            result.append((dw, q[..., k + 1].mean(0)))
        return result


def rule_step(rule: UpdateRule, params: Params, x: Tensor) -> Params:
    """One unsupervised update of `params` by `rule` on the standardised batch `x` (rows keep their norms)."""
    lr = rule.log_lr.exp()
    new = []
    for (w, b), (dw, db) in zip(params, rule.updates(params, x)):
        moved = w + lr * dw
        scale = w.norm(dim=1, keepdim=True) / moved.norm(dim=1, keepdim=True).clamp_min(1e-12)
        new.append((moved * scale, b + lr * db))
    return new


def unsupervised_train(
    rule: UpdateRule,
    images: Tensor,
    widths: tuple[int, ...],
    steps: int,
    *,
    batch: int = 64,
    seed: int = 0,
) -> Params:
    """A fresh base MLP of `widths` on `images` (unlabelled), after `steps` updates of `rule` (no gradients)."""
    generator = torch.Generator().manual_seed(seed)
    x = standardise(images)
    params = base_net(x.shape[1], widths, generator)
    with torch.no_grad():
        for _ in range(steps):
            params = rule_step(rule, params, x[torch.randint(len(x), (batch,), generator=generator)])
    return params


def ridge_readout(fs: Tensor, ys: Tensor, fq: Tensor, ways: int, ridge: float) -> Tensor:
    """Query predictions ``(len(fq), ways)`` of the ridge regression of one-hot `ys` on the support features.

    Features are L2-normalised with a constant 1 appended (the intercept, penalised too); the
    solution is the dual form ``fq fs^T (fs fs^T + ridge I)^-1 Y``, equal to sklearn's
    ``Ridge(alpha=ridge, fit_intercept=False)`` on the same augmented features.
    """

    def augment(f: Tensor) -> Tensor:
        f = f / (f.norm(dim=1, keepdim=True) + 1e-8)
        return torch.cat([f, torch.ones(len(f), 1, dtype=f.dtype)], 1)

    fs, fq = augment(fs), augment(fq)
    target = F.one_hot(ys, ways).to(fs.dtype)
    gram = fs @ fs.T + ridge * torch.eye(len(fs), dtype=fs.dtype)
    return fq @ fs.T @ torch.linalg.solve(gram, target)


def readout_accuracy(
    embed: Callable[[Tensor], Tensor],
    images: Tensor,
    sampler,
    tasks: int,
    *,
    ridge: float = 0.1,
    seed: int = 0,
) -> tuple[float, float]:
    """Mean few-shot accuracy (and 95 % half-width) of the ridge readout on ``embed(images)``'s features."""
    with torch.no_grad():
        z = embed(images).float()
    rng = np.random.default_rng(seed)
    accuracies = []
    for _ in range(tasks):
        task = sampler.sample(rng)
        predicted = ridge_readout(
            z[task.support], torch.from_numpy(task.support_labels), z[task.query], sampler.ways, ridge
        ).argmax(1)
        accuracies.append(float((predicted == torch.from_numpy(task.query_labels)).float().mean()))
    return confidence_interval(np.asarray(accuracies))


def _task_loss(params: Params, x: Tensor, labels: Tensor, config: UpdateRuleConfig, generator) -> Tensor:
    """The meta-objective on one task of the labelled meta-train images: the readout's query MSE."""
    classes = labels.unique()
    chosen = classes[torch.randperm(len(classes), generator=generator)[: config.ways]]
    support, query = [], []
    for c in chosen:
        members = torch.nonzero(labels == c).squeeze(1)
        picked = members[torch.randperm(len(members), generator=generator)[: config.shots + config.queries]]
        support.append(picked[: config.shots])
        query.append(picked[config.shots :])
    ys = torch.arange(config.ways).repeat_interleave(config.shots)
    yq = torch.arange(config.ways).repeat_interleave(config.queries)
    top = _forward(params, x[torch.cat(support + query)])[1][-1]
    fs, fq = top[: len(ys)], top[len(ys) :]
    predicted = ridge_readout(fs, ys, fq, config.ways, config.ridge)
    return F.mse_loss(predicted, F.one_hot(yq, config.ways).float()) * config.ways


def _check_labels(labels: Tensor, config: UpdateRuleConfig) -> None:
    values, counts = labels.unique(return_counts=True)
    need = config.shots + config.queries
    if int((counts >= need).sum()) < config.ways or int(counts.min()) < need:
        raise InputError(
            f"{config.ways}-way meta-training tasks need {config.ways} classes of at least "
            f"shots + queries = {need} images each",
            item=f"{len(values)} classes, smallest {int(counts.min())} images",
        )


def meta_train(
    images: Tensor,
    labels: Tensor | np.ndarray,
    config: UpdateRuleConfig,
    *,
    checkpoint: str | Path | None = None,
    on_step: Callable[[int, dict[str, float]], None] | None = None,
) -> tuple[UpdateRule, list[dict[str, float]], dict[int, dict[str, Tensor]]]:
    """Meta-train a rule on labelled images (labels used only by the meta-objective's readout).

    Each meta-step draws a base MLP (depth from ``config.depths``, one width from ``config.widths``
    for all its layers), runs ``config.inner_steps`` rule updates on unlabelled batches, and takes
    the meta-gradient of the readout loss at every ``config.truncation``-step cut. Resumes from
    `checkpoint` when it exists (the config must match except the extendable ``meta_steps``).

    Returns:
        The rule, one row per meta-step (``step``, ``loss``: mean over the cuts) and the snapshots
        ``{meta_step: state_dict}`` taken every ``config.snapshot_every`` steps (step 0 = the init).
    """
    x = standardise(images)
    labels = torch.as_tensor(np.asarray(labels), dtype=torch.int64)
    if len(labels) != len(x):
        raise InputError("images and labels differ in length", item=(len(x), len(labels)))
    _check_labels(labels, config)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        rule = UpdateRule(config.hidden, config.channels)
    optimizer = torch.optim.Adam(rule.parameters(), lr=config.learning_rate)
    generator = torch.Generator().manual_seed(config.seed)
    history: list[dict[str, float]] = []
    snapshots: dict[int, dict[str, Tensor]] = {0: copy.deepcopy(rule.state_dict())}
    done = 0
    path = Path(checkpoint) if checkpoint is not None else None
    if path is not None and path.exists():
        saved = load_checkpoint(path, UpdateRuleConfig, resume=config)
        rule.load_state_dict(saved.state["rule"])
        optimizer.load_state_dict(saved.state["optimizer"])
        generator.set_state(saved.state["generator"])
        snapshots = {int(k): v for k, v in saved.state["snapshots"].items()}
        done, history = saved.extra["step"], saved.extra["history"]

    def save(step: int) -> None:
        state = {
            "rule": rule.state_dict(),
            "optimizer": optimizer.state_dict(),
            "generator": generator.get_state(),
            "snapshots": {str(k): v for k, v in snapshots.items()},
        }
        save_checkpoint(path, state, config, extra={"step": step, "history": history})

    for step in progress(
        range(done + 1, config.meta_steps + 1), desc="update-rule", total=config.meta_steps - done
    ):
        depth = config.depths[int(torch.randint(len(config.depths), (1,), generator=generator))]
        width = config.widths[int(torch.randint(len(config.widths), (1,), generator=generator))]
        params = base_net(x.shape[1], (width,) * depth, generator)
        optimizer.zero_grad()
        losses = []
        for start in range(0, config.inner_steps, config.truncation):
            params = [(w.detach(), b.detach()) for w, b in params]
            for _ in range(min(config.truncation, config.inner_steps - start)):
                batch = x[torch.randint(len(x), (config.inner_batch,), generator=generator)]
                params = rule_step(rule, params, batch)
            loss = _task_loss(params, x, labels, config, generator)
            loss.backward()
            losses.append(float(loss.detach()))
        nn.utils.clip_grad_norm_(rule.parameters(), config.grad_clip)
        optimizer.step()
        history.append({"step": step, "loss": float(np.mean(losses)), "width": width, "depth": depth})
        if step % config.snapshot_every == 0:
            snapshots[step] = copy.deepcopy(rule.state_dict())
        if path is not None and (step % config.checkpoint_every == 0 or step == config.meta_steps):
            save(step)
        if on_step is not None:
            on_step(step, history[-1])
    return rule, history, snapshots


def autoencoder_train(
    images: Tensor, widths: tuple[int, ...], steps: int, *, batch: int = 64, lr: float = 1e-3, seed: int = 0
) -> Params:
    """The baseline: the same base MLP as an encoder with a linear decoder, Adam on the reconstruction MSE
    of the standardised images for `steps` batches; returns the encoder's parameters."""
    generator = torch.Generator().manual_seed(seed)
    x = standardise(images)
    params = [(nn.Parameter(w), nn.Parameter(b)) for w, b in base_net(x.shape[1], widths, generator)]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        decoder = nn.Linear(widths[-1], x.shape[1])
    optimizer = torch.optim.Adam([t for pair in params for t in pair] + list(decoder.parameters()), lr=lr)
    for _ in range(steps):
        xb = x[torch.randint(len(x), (batch,), generator=generator)]
        loss = F.mse_loss(decoder(_forward(params, xb)[1][-1]), xb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return [(w.detach(), b.detach()) for w, b in params]
