"""RBF output layer with rejection (Zadeh et al., sec. 6) and deep RBF networks of AND/OR units (de Alfaro, sec. 7).

**RBF output layer.** On a deep feature extractor ``h(x)`` (a reference architecture without its
last Linear layer), unit ``k`` computes ``d_k(x) = || A_k^T h(x) + b_k ||_p^p`` with
``A_k (features, rank)`` and ``b_k (rank,)``. The decision is ``argmin_k d_k`` (the forward pass
returns ``-d`` as logits), and the network is trained with the max-margin loss
``J = d_y + sum_{j != y} max(0, lambda - d_j)`` on the training images plus, on injected noise images
(uniform in [0, 1]), ``sum_j max(0, lambda - d_j)``, which pushes noise at least ``lambda`` away from every
class (the summary says this term is "maximized"; minimising the hinge is what makes noise a
negative for every class, so that is what is done here). `reject(x)` abstains where
``min_k d_k`` exceeds a threshold, calibrated by `calibrate` to a clean false-positive rate.

**Deep RBF network.** Layers of units ``AND(x) = exp(-max_i (u_i (x_i - w_i))^2)`` and
``OR(x) = 1 - AND(x)`` with per-unit ``u, w``, alternating AND / OR (the paper's MNIST net:
512 AND, 512 OR, 512 AND, 10 OR). The outputs are in [0, 1]; the forward pass returns their
log-odds as logits; training minimises the binary cross-entropy of the outputs against one-hot
labels. For training, the derivative of ``exp(-z)`` is replaced by the pseudo-derivative
``-1 / sqrt(1 + z)`` (it does not vanish far from a unit's centre), and the max passes its gradient
not to its argmax alone but to every term ``v_i = (u_i (x_i - w_i))^2`` with the weights
``softmax(v / (PSEUDO_MAX_TEMPERATURE x max_i v_i))`` (so every weight of a unit learns, not one per
example). Both are our choices in the spirit of the paper's pseudo-gradients, which the summary does
not spell out; with the argmax-only max a 128-unit net reached 0.36 on the 8x8 digits after 6
epochs, with the soft one 0.77 (and 0.87 with Adam 1e-2). Attacks get the true gradient by default; `PseudoGradient(net)` gives the
attacker the training pseudo-gradient instead (an adaptive attack against the vanishing true
gradient). `reject(x)` abstains where the largest output is below a calibrated threshold.

`RejectionAwarePGD` attacks either network together with its rejection rule: PGD on the logit
margin clipped at ``kappa`` (CW-style: once misclassified by ``kappa`` the margin stops pulling)
minus ``weight x relu(score - t) / |threshold|`` with ``t = threshold - slack |threshold|``, where
``score`` is the network's rejection score (``min_k d_k``, or minus the largest output), so the
example is misclassified and accepted with some room. (Without the clip, the unbounded margin
term dominates and the attack ends misclassified but rejected: on the smoke RBF net at eps 0.2 it
fooled-and-passed 0.39 of the images, the clipped one 0.99.) `fit_rbf(data, RBFConfig(...), checkpoint=...)` trains either network (resumable,
checkpointed every epoch, progress bar; only ``epochs`` may change on resume).
"""

from __future__ import annotations

import abc
import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import torch
from torch import Tensor, nn

from core.checkpoint import load_checkpoint, load_state_into, save_checkpoint
from core.errors import InputError
from core.progress import progress
from core.resume import extendable
from robust.attacks.base import check_budget
from robust.attacks.pgd import PGD
from robust.config import ARCHITECTURES, ModelConfig
from robust.data import ImageData
from robust.defenses.gp_reject import conformal_threshold
from robust.models import accuracy, build_model
from robust.train import resume_from

__all__ = [
    "DeepRBF",
    "PseudoGradient",
    "RBFConfig",
    "RBFNet",
    "RBFOutput",
    "RBFUnits",
    "RejectionAwarePGD",
    "build_rbf",
    "fit_rbf",
    "load_rbf",
    "max_margin_loss",
    "noise_loss",
]


# --- the RBF output layer -----------------------------------------------------------------


class RBFOutput(nn.Module):
    """``h (n, features) -> d (n, classes)`` with ``d_k = || A_k^T h + b_k ||_p^p``.

    Args:
        features: input width.
        classes: number of RBF units (classes).
        rank: columns of each ``A_k`` (default: `features`).
        p: the norm's exponent (> 0; the paper's experiments use 2).
    """

    def __init__(self, features: int, classes: int, rank: int | None = None, p: float = 2.0) -> None:
        super().__init__()
        rank = features if rank is None else rank
        for name, value in (("features", features), ("classes", classes), ("rank", rank)):
            check_budget(name, value, positive=True, integer=True)
        check_budget("p", p, positive=True)
        self.p = float(p)
        self.A = nn.Parameter(torch.randn(classes, features, rank) / features**0.5)
        self.b = nn.Parameter(torch.randn(classes, rank) * 0.5)

    def forward(self, h: Tensor) -> Tensor:
        if h.ndim != 2 or h.shape[1] != self.A.shape[1]:
            raise InputError(
                f"RBFOutput expects (n, {self.A.shape[1]}) features", item=f"shape {tuple(h.shape)}"
            )
        projected = torch.einsum("nf,kfr->nkr", h, self.A) + self.b
        return projected.abs().pow(self.p).sum(-1)


def max_margin_loss(d: Tensor, y: Tensor, margin: float) -> Tensor:
    """Zadeh et al.'s loss, batch mean of ``d_y + sum_{j != y} max(0, margin - d_j)``."""
    true = d.gather(1, y[:, None])[:, 0]
    hinge = torch.relu(margin - d).scatter(1, y[:, None], 0.0).sum(1)
    return (true + hinge).mean()


def noise_loss(d: Tensor, margin: float) -> Tensor:
    """Batch mean of ``sum_j max(0, margin - d_j)`` on noise inputs (zero once every class is >= margin away)."""
    return torch.relu(margin - d).sum(1).mean()


class _Rejecting(nn.Module, abc.ABC):
    """Shared rejection interface: ``rejection_score(x)`` above ``threshold`` is rejected."""

    threshold: float

    @abc.abstractmethod
    def rejection_score(self, x: Tensor) -> Tensor:
        """``(n,)`` score per image of ``x``; larger means further from every class."""

    @torch.no_grad()
    def calibrate(self, x: Tensor, fpr: float) -> float:
        """Set `threshold` so that about a fraction `fpr` of clean images like ``x`` are rejected."""
        self.threshold = conformal_threshold(self.rejection_score(x).detach().flatten(), fpr)
        return self.threshold

    @torch.no_grad()
    def reject(self, x: Tensor) -> Tensor:
        """``(n,)`` bool: True where the network abstains."""
        return self.rejection_score(x) > self.threshold


class RBFNet(_Rejecting):
    """A feature extractor followed by an `RBFOutput`; forward returns ``-d`` (argmax = nearest unit).

    ``threshold`` (default ``margin / 2``, or set by `calibrate`) rejects where ``min_k d_k`` exceeds it.
    """

    def __init__(self, features: nn.Module, output: RBFOutput, margin: float) -> None:
        super().__init__()
        self.features, self.output, self.margin = features, output, float(margin)
        self.threshold = float(margin) / 2

    def distances(self, x: Tensor) -> Tensor:
        return self.output(self.features(x))

    def rejection_score(self, x: Tensor) -> Tensor:
        return self.distances(x).min(1).values

    def forward(self, x: Tensor) -> Tensor:
        return -self.distances(x)


# --- deep RBF networks ----------------------------------------------------------------------


class _PseudoExp(torch.autograd.Function):
    """``exp(-z)`` whose backward is the pseudo-derivative ``-1 / sqrt(1 + z)``."""

    @staticmethod
    def forward(ctx, z: Tensor) -> Tensor:  # type: ignore[override]
        ctx.save_for_backward(z)
        return torch.exp(-z)

    @staticmethod
    def backward(ctx, grad: Tensor) -> Tensor:  # type: ignore[override]
        (z,) = ctx.saved_tensors
        return -grad / torch.sqrt(1 + z)


PSEUDO_MAX_TEMPERATURE = 0.1
"""Temperature of the max's pseudo-gradient, relative to the unit's largest term."""


class _PseudoMax(torch.autograd.Function):
    """``max_i v_i`` over the last axis whose backward spreads the gradient by ``softmax(v / (t max v))``."""

    @staticmethod
    def forward(ctx, v: Tensor) -> Tensor:  # type: ignore[override]
        ctx.save_for_backward(v)
        return v.amax(-1)

    @staticmethod
    def backward(ctx, grad: Tensor) -> Tensor:  # type: ignore[override]
        (v,) = ctx.saved_tensors
        scale = PSEUDO_MAX_TEMPERATURE * v.amax(-1, keepdim=True) + 1e-6
        return grad[..., None] * torch.softmax(v / scale, dim=-1)


class RBFUnits(nn.Module):
    """A layer of AND (``exp(-max_i (u_i (x_i - w_i))^2)``) or OR (``1 -`` that) units.

    ``x (n, inputs) -> (n, units)``; ``u`` starts uniform in [0, `u_init`], ``w`` uniform in [0, 1].
    """

    def __init__(
        self, inputs: int, units: int, kind: Literal["and", "or"] = "and", u_init: float = 0.5
    ) -> None:
        super().__init__()
        if kind not in ("and", "or"):
            raise InputError("unknown RBF unit kind", item=f"kind={kind!r}", expected="'and' or 'or'")
        check_budget("inputs", inputs, positive=True, integer=True)
        check_budget("units", units, positive=True, integer=True)
        self.kind = kind
        self.u = nn.Parameter(torch.rand(units, inputs) * u_init)
        self.w = nn.Parameter(torch.rand(units, inputs))
        self.pseudo_gradient = False

    def distance(self, x: Tensor) -> Tensor:
        """``(n, units)``: ``max_i (u_i (x_i - w_i))^2`` (soft pseudo-gradient when `pseudo_gradient`)."""
        if x.ndim != 2 or x.shape[1] != self.u.shape[1]:
            raise InputError(
                f"RBFUnits expects (n, {self.u.shape[1]}) inputs", item=f"shape {tuple(x.shape)}"
            )
        terms = (self.u * (x[:, None, :] - self.w)).pow(2)
        return _PseudoMax.apply(terms) if self.pseudo_gradient else terms.amax(2)

    def forward(self, x: Tensor) -> Tensor:
        z = self.distance(x)
        value = _PseudoExp.apply(z) if self.pseudo_gradient else torch.exp(-z)
        return value if self.kind == "and" else 1 - value


class DeepRBF(_Rejecting):
    """Flatten, then `RBFUnits` layers alternating AND / OR, ending in ``classes`` OR units.

    Forward returns the log-odds of the outputs; ``outputs(x)`` the outputs in [0, 1]. ``threshold``
    (default -0.5: reject when no output reaches 0.5) applies to minus the largest output.
    """

    def __init__(self, inputs: int, widths: tuple[int, ...], classes: int) -> None:
        super().__init__()
        sizes = (inputs, *widths, classes)
        # the last layer is OR; earlier ones alternate backwards from it (paper: AND, OR, AND, OR)
        kinds = ["and" if (len(sizes) - 2 - i) % 2 else "or" for i in range(len(sizes) - 1)]
        self.layers = nn.ModuleList(
            RBFUnits(a, b, kind) for a, b, kind in zip(sizes, sizes[1:], kinds, strict=False)
        )
        self.threshold = -0.5

    @contextlib.contextmanager
    def pseudo(self, on: bool = True) -> Iterator[None]:
        """Within the block, backward uses the training pseudo-derivative of exp."""
        before = [layer.pseudo_gradient for layer in self.layers]
        for layer in self.layers:
            layer.pseudo_gradient = on
        try:
            yield
        finally:
            for layer, value in zip(self.layers, before, strict=True):
                layer.pseudo_gradient = value

    def outputs(self, x: Tensor) -> Tensor:
        h = x.flatten(1)
        for layer in self.layers:
            h = layer(h)
        return h

    def rejection_score(self, x: Tensor) -> Tensor:
        return -self.outputs(x).max(1).values

    def forward(self, x: Tensor) -> Tensor:
        out = self.outputs(x).clamp(1e-6, 1 - 1e-6)
        return out.log() - (-out).log1p()


class PseudoGradient(_Rejecting):
    """`DeepRBF` whose backward uses the training pseudo-gradient (same forward, same rejection)."""

    def __init__(self, net: DeepRBF) -> None:
        super().__init__()
        if not isinstance(net, DeepRBF):
            raise InputError("PseudoGradient wraps a DeepRBF", item=type(net).__name__)
        self.net = net

    @property
    def threshold(self) -> float:  # type: ignore[override]
        return self.net.threshold

    def rejection_score(self, x: Tensor) -> Tensor:
        with self.net.pseudo():
            return self.net.rejection_score(x)

    def forward(self, x: Tensor) -> Tensor:
        with self.net.pseudo():
            return self.net(x)


# --- the attack on the rejecting networks -----------------------------------------------------


class RejectionAwarePGD(PGD):
    """PGD on the logit margin that also keeps the rejection score under the threshold.

    Takes PGD's arguments plus ``weight`` (of the rejection penalty), ``kappa`` (the margin's clip,
    > 0) and ``slack`` (the score is pushed below ``threshold - slack |threshold|``); ``model``
    must have ``rejection_score(x)`` and ``threshold`` (`RBFNet`, `DeepRBF`, `PseudoGradient`).
    Success: misclassified (or the target, when targeted) and accepted.
    """

    name = "pgd-reject"

    def __init__(
        self,
        model: nn.Module,
        *args: object,
        weight: float = 1.0,
        kappa: float = 1.0,
        slack: float = 0.1,
        **kwargs: object,
    ) -> None:
        if not callable(getattr(model, "rejection_score", None)) or not hasattr(model, "threshold"):
            raise InputError(
                "RejectionAwarePGD needs a model with rejection_score and threshold",
                item=type(model).__name__,
            )
        super().__init__(model, *args, **kwargs)  # type: ignore[arg-type]
        check_budget("weight", weight)
        check_budget("kappa", kappa, positive=True)
        check_budget("slack", slack)
        self.weight, self.kappa, self.slack = float(weight), float(kappa), float(slack)

    def loss_gradient(self, x: Tensor, y: Tensor, active: Tensor | None = None) -> Tensor:
        point = x.detach().requires_grad_(True)
        logits = self.logits(point)
        true = logits.gather(1, y[:, None])[:, 0]
        other = logits.scatter(1, y[:, None], float("-inf")).max(1).values
        margin = (true - other if self.targeted else other - true).clamp(max=self.kappa)
        threshold = float(self.model.threshold)
        scale = max(abs(threshold), 1e-6)
        target = threshold - self.slack * scale
        excess = torch.relu(self.model.rejection_score(point) - target) / scale
        (grad,) = torch.autograd.grad((margin - self.weight * excess).sum(), point)
        self._charge(1, active)
        return grad

    def succeeded(self, x_adv: Tensor, y: Tensor) -> Tensor:
        return super().succeeded(x_adv, y) & ~self.model.reject(x_adv)

    def budget(self) -> dict[str, object]:
        return {**super().budget(), "weight": self.weight, "kappa": self.kappa, "slack": self.slack}


# --- training --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RBFConfig:
    """One RBF training run.

    Attributes:
        kind: ``"rbf"`` (feature extractor + RBF output layer) or ``"deep-rbf"``.
        architecture: the feature extractor of ``"rbf"`` (a reference architecture minus its last layer).
        widths: hidden widths (``"rbf"``: the architecture's; ``"deep-rbf"``: the RBF layers', default 512 x 3).
        image_shape: ``(channels, size)`` of the images.
        num_classes: classes.
        margin: lambda of the max-margin loss.
        p, rank: the RBF output layer's exponent and ``A_k`` columns (0: the feature width).
        noise_fraction: noise images injected per batch, as a fraction of the batch (``"rbf"``).
        data: name of the data set (checked against the `ImageData`).
        epochs: passes (extendable), batch_size, learning_rate (Adam), seed.
    """

    kind: Literal["rbf", "deep-rbf"] = "rbf"
    architecture: str = "mlp"
    widths: tuple[int, ...] = ()
    image_shape: tuple[int, int] = (1, 28)
    num_classes: int = 10
    margin: float = 10.0
    p: float = 2.0
    rank: int = 0
    noise_fraction: float = 0.25
    data: str = "mnist5000"
    epochs: int = extendable(10)
    batch_size: int = 50
    learning_rate: float = 1e-3
    seed: int = 0

    def __post_init__(self) -> None:
        if self.kind not in ("rbf", "deep-rbf"):
            raise InputError(
                "unknown RBF network kind", item=f"kind={self.kind!r}", expected="'rbf' or 'deep-rbf'"
            )
        if self.kind == "rbf" and self.architecture not in ARCHITECTURES:
            raise InputError(
                "unknown architecture", item=self.architecture, expected=", ".join(ARCHITECTURES)
            )
        check_budget("margin", self.margin, positive=True)
        check_budget("rank", self.rank, integer=True)
        check_budget("noise_fraction", self.noise_fraction)
        for name in ("epochs", "batch_size", "num_classes"):
            check_budget(name, getattr(self, name), positive=True, integer=True)
        check_budget("learning_rate", self.learning_rate, positive=True)
        if any(isinstance(w, bool) or not isinstance(w, int) or w < 1 for w in self.widths):
            raise InputError("widths must be positive integers", item=f"widths={self.widths!r}")


def build_rbf(config: RBFConfig) -> RBFNet | DeepRBF:
    """A freshly initialised network for `config` (from torch's global generator)."""
    c, size = config.image_shape
    if config.kind == "deep-rbf":
        return DeepRBF(c * size * size, config.widths or (512, 512, 512), config.num_classes)
    base = build_model(ModelConfig(config.architecture, c, size, config.num_classes, config.widths))
    layers = list(base)
    last = layers[-1]
    features = nn.Sequential(*layers[:-1])
    output = RBFOutput(last.in_features, config.num_classes, config.rank or None, config.p)
    return RBFNet(features, output, config.margin)


def _batch_loss(
    net: RBFNet | DeepRBF, config: RBFConfig, x: Tensor, y: Tensor, generator: torch.Generator
) -> Tensor:
    if isinstance(net, DeepRBF):
        with net.pseudo():
            return nn.functional.cross_entropy(net(x), y)
    loss = max_margin_loss(net.distances(x), y, config.margin)
    noise = round(config.noise_fraction * len(x))
    if noise:
        images = torch.rand(noise, *x.shape[1:], generator=generator).to(x.device, x.dtype)
        loss = loss + noise_loss(net.distances(images), config.margin)
    return loss


def fit_rbf(
    data: ImageData,
    config: RBFConfig,
    checkpoint: str | Path | None = None,
    *,
    device: str | torch.device = "cpu",
) -> tuple[RBFNet | DeepRBF, list[dict[str, float]]]:
    """Train an RBF network on ``data``'s training split with Adam (resumable, checkpointed every epoch).

    Returns ``(network in eval mode, history)`` with per-epoch ``train_loss``, ``test_accuracy``,
    cumulative ``train_seconds``. The rejection threshold is the default until `calibrate` is called.

    Raises:
        InputError: data that does not fit the config; CheckpointMismatchError on a changed config.
    """
    c, size = config.image_shape
    if data.name != config.data or tuple(data.image_shape) != (c, size, size):
        raise InputError(
            f"the data ({data.name}, {tuple(data.image_shape)}) does not fit the config ({config.data}, {(c, size, size)})"
        )
    device = torch.device(device)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        net = build_rbf(config)
    net.to(device)
    optimizer = torch.optim.Adam(net.parameters(), lr=config.learning_rate)
    generator = torch.Generator().manual_seed(config.seed)
    path = Path(checkpoint) if checkpoint is not None else None
    history, start, _ = resume_from(path, config, net, optimizer, generator, device=device)
    x_train, y_train = data.x_train.to(device), data.y_train.to(device)
    seconds = history[-1]["train_seconds"] if history else 0.0
    for epoch in progress(range(start + 1, config.epochs + 1), desc=f"train {config.kind}"):
        began = time.perf_counter()
        net.train()
        order = torch.randperm(len(x_train), generator=generator).to(device)
        total = 0.0
        for batch in order.split(config.batch_size):
            loss = _batch_loss(net, config, x_train[batch], y_train[batch], generator)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            if isinstance(net, DeepRBF):
                with torch.no_grad():
                    for layer in net.layers:
                        layer.u.clamp_(min=0)
            total += float(loss.detach()) * len(batch)
        net.eval()
        seconds += time.perf_counter() - began
        history.append(
            {
                "epoch": epoch,
                "train_loss": total / len(x_train),
                "test_accuracy": accuracy(net, data.x_test.to(device), data.y_test.to(device)),
                "train_seconds": seconds,
            }
        )
        if path is not None:
            state = {
                "model": net.state_dict(),
                "optimizer": optimizer.state_dict(),
                "generator": generator.get_state(),
            }
            save_checkpoint(path, state, config, extra={"epoch": epoch, "history": history})
    net.eval()
    return net, history


def load_rbf(path: str | Path, device: str | torch.device = "cpu") -> tuple[RBFNet | DeepRBF, RBFConfig]:
    """The network saved by `fit_rbf` at `path` (eval mode; default threshold) and its config."""
    saved = load_checkpoint(path, RBFConfig, map_location=device)
    with torch.random.fork_rng(devices=[]):
        net = build_rbf(saved.config)
    load_state_into(net, saved.state["model"], source=Path(path))
    return net.to(device).eval(), saved.config
