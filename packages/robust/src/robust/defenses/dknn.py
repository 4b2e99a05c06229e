"""Deep k-nearest neighbours (Papernot & McDaniel 2018, sec. 24): conformal credibility over layers.

`DkNN(model, x_train, y_train, x_calibration, y_calibration, k=75)` wraps a trained
``nn.Sequential`` classifier. For each chosen layer (by default the output of every ReLU and the
logits) it keeps a nearest-neighbour index (scikit-learn's `NearestNeighbors`, Euclidean) of the
training images' representations. For an input ``x`` and a class ``j``, the nonconformity is
Algorithm 1's ``alpha(x, j) = sum over layers of |{neighbours whose label != j}|``; the
calibration set (held out from training) gives the reference values ``A = {alpha(x_c, y_c)}``, and
the empirical p-value ``p_j(x) = |{a in A : a >= alpha(x, j)}| / |A|``. The prediction is
``argmax_j p_j``, its **credibility** the largest p-value and its **confidence** one minus the
second largest. On held-out clean data the true class's p-value is (up to ties) uniform on [0, 1],
so rejecting inputs whose credibility is below `reject_below` rejects at most about that fraction
of clean inputs: `reject(x)` is the defense's abstention (`robust.evaluate` reports it).

The forward pass is not differentiable (neighbour search); the attacks the paper ran against it are
crafted on the underlying network and transferred (``evaluate(..., attack_model=model)``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn

from core.errors import InputError
from robust.attacks.base import check_budget
from robust.guard import evaluation_mode

__all__ = ["DkNN", "DkNNOutput", "default_layers"]


@dataclass(frozen=True)
class DkNNOutput:
    """DkNN's answer for ``n`` inputs over ``classes`` classes.

    Attributes:
        p_values: ``(n, classes)`` empirical p-values in [0, 1].
        prediction: ``(n,)`` int64, ``argmax p_values``.
        credibility: ``(n,)`` the largest p-value.
        confidence: ``(n,)`` one minus the second largest p-value.
        nonconformity: ``(n, classes)`` int64, Algorithm 1's alpha for each class.
    """

    p_values: Tensor
    prediction: Tensor
    credibility: Tensor
    confidence: Tensor
    nonconformity: Tensor


def default_layers(model: nn.Sequential) -> tuple[int, ...]:
    """Indices of the children whose outputs DkNN indexes: every ReLU and the last module (logits)."""
    children = list(model)
    relus = [i for i, layer in enumerate(children) if isinstance(layer, nn.ReLU)]
    return (*relus, len(children) - 1) if relus[-1:] != [len(children) - 1] else tuple(relus)


class DkNN(nn.Module):
    """Deep k-nearest neighbours over the layers of a trained ``nn.Sequential`` classifier.

    Args:
        model: the trained classifier (``nn.Sequential``, logits out); not modified.
        x_train: ``(n, c, h, w)`` images whose representations are indexed (the training set).
        y_train: ``(n,)`` int64 labels of `x_train`.
        x_calibration: ``(m, c, h, w)`` held-out images (not in `x_train`) for the reference
            nonconformity values; the paper holds out 750 MNIST test images.
        y_calibration: ``(m,)`` int64 labels.
        k: neighbours per layer (the paper: 75).
        layers: indices of ``model``'s children whose outputs are indexed (`default_layers`).
        reject_below: `reject` abstains when credibility is below this (the clean rejection rate).
        num_classes: the number of classes (default: the model's output width).
        batch_size: images per forward pass when computing representations.

    Forward: ``(n, c, h, w) -> (n, classes)`` log p-values (``argmax`` is DkNN's prediction).
    """

    def __init__(
        self,
        model: nn.Module,
        x_train: Tensor,
        y_train: Tensor,
        x_calibration: Tensor,
        y_calibration: Tensor,
        *,
        k: int = 75,
        layers: tuple[int, ...] | None = None,
        reject_below: float = 0.05,
        num_classes: int | None = None,
        batch_size: int = 500,
    ) -> None:
        super().__init__()
        if not isinstance(model, nn.Sequential) or len(model) == 0:
            raise InputError("DkNN needs a non-empty nn.Sequential model", item=type(model).__name__)
        check_budget("k", k, positive=True, integer=True)
        check_budget("batch_size", batch_size, positive=True, integer=True)
        check_budget("reject_below", reject_below)
        if reject_below > 1:
            raise InputError("reject_below must lie in [0, 1]", item=f"reject_below={reject_below}")
        self.model, self.k, self.batch_size, self.reject_below = model, k, batch_size, float(reject_below)
        self.layers = default_layers(model) if layers is None else tuple(layers)
        for index in self.layers:
            if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(model):
                raise InputError(f"layer indices must lie in 0..{len(model) - 1}", item=f"layer {index!r}")
        if len(self.layers) == 0:
            raise InputError("DkNN needs at least one layer")
        y_train_np = _labels(y_train, len(x_train), "y_train")
        y_cal_np = _labels(y_calibration, len(x_calibration), "y_calibration")
        if k > len(x_train):
            raise InputError(f"k must be <= the {len(x_train)} training images", item=f"k={k}")
        if len(x_calibration) == 0:
            raise InputError("DkNN needs a non-empty calibration set")
        with evaluation_mode(model), torch.no_grad():
            width = model(x_train[:1]).shape[1]
        self.num_classes = width if num_classes is None else num_classes
        if max(int(y_train_np.max()), int(y_cal_np.max())) >= self.num_classes:
            raise InputError(f"labels must lie in 0..{self.num_classes - 1}")
        from sklearn.neighbors import NearestNeighbors

        self.y_train = y_train_np
        self.indexes = [
            NearestNeighbors(n_neighbors=k).fit(features) for features in self.representations(x_train)
        ]
        alpha = self.nonconformity(x_calibration)
        self.calibration = np.sort(alpha[np.arange(len(y_cal_np)), y_cal_np])

    def representations(self, x: Tensor) -> list[np.ndarray]:
        """``x (n, c, h, w)`` -> one ``(n, d_l)`` float32 array per indexed layer (flattened outputs)."""
        wanted = set(self.layers)
        chunks: dict[int, list[np.ndarray]] = {index: [] for index in self.layers}
        with evaluation_mode(self.model), torch.no_grad():
            for start in range(0, len(x), self.batch_size):
                h = x[start : start + self.batch_size]
                for index, layer in enumerate(self.model):
                    h = layer(h)
                    if index in wanted:
                        chunks[index].append(h.flatten(1).float().cpu().numpy())
        return [np.concatenate(chunks[index]) for index in self.layers]

    def neighbour_labels(self, x: Tensor) -> np.ndarray:
        """``(n, layers, k)`` int64 labels of the k nearest training images in each layer."""
        columns = []
        for index, features in zip(self.indexes, self.representations(x), strict=True):
            neighbours = index.kneighbors(features, return_distance=False)
            columns.append(self.y_train[neighbours])
        return np.stack(columns, axis=1)

    def nonconformity(self, x: Tensor) -> np.ndarray:
        """``(n, classes)`` int64: for each class j, the neighbours (over all layers) not labelled j."""
        labels = self.neighbour_labels(x).reshape(len(x), -1)
        counts = np.stack([(labels == j).sum(1) for j in range(self.num_classes)], axis=1)
        return labels.shape[1] - counts

    def explain(self, x: Tensor) -> DkNNOutput:
        """p-values, prediction, credibility and confidence of each input ``x (n, c, h, w)``."""
        alpha = self.nonconformity(x)
        at_least = len(self.calibration) - np.searchsorted(self.calibration, alpha, side="left")
        p = torch.from_numpy(at_least / len(self.calibration)).to(torch.float32)
        top = p.topk(min(2, self.num_classes), dim=1)
        second = top.values[:, 1] if self.num_classes > 1 else torch.zeros(len(p))
        return DkNNOutput(
            p_values=p,
            prediction=top.indices[:, 0].contiguous(),
            credibility=top.values[:, 0].contiguous(),
            confidence=1 - second,
            nonconformity=torch.from_numpy(alpha),
        )

    def credibility(self, x: Tensor) -> Tensor:
        """``(n,)`` credibility (largest p-value) of each input."""
        return self.explain(x).credibility

    def reject(self, x: Tensor) -> Tensor:
        """``(n,)`` bool: True where DkNN abstains (credibility below `reject_below`)."""
        return (self.credibility(x) < self.reject_below).to(x.device)

    def forward(self, x: Tensor) -> Tensor:
        return self.explain(x).p_values.clamp_min(1e-6).log().to(x.device)


def _labels(y: Tensor, n: int, name: str) -> np.ndarray:
    if not torch.is_tensor(y) or y.dtype != torch.int64 or y.shape != (n,):
        shape = tuple(y.shape) if torch.is_tensor(y) else type(y).__name__
        raise InputError(f"{name} must be an int64 tensor of shape ({n},)", item=f"got {shape}")
    if n and int(y.min()) < 0:
        raise InputError(f"{name} must hold class indices >= 0", item=f"min {int(y.min())}")
    return y.cpu().numpy()
