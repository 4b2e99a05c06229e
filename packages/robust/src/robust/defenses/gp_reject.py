"""Gaussian-process rejection (Grosse et al. 2018, sec. 16) and the attack that maximises its confidence.

`ExactGP` is exact GP regression in plain torch (so the posterior is differentiable in its inputs):
a squared-exponential kernel ``k(a, b) = s exp(-|a - b|^2 / (2 l^2))`` and Gaussian noise ``sigma^2``
give, for training points ``X (m, d)`` with targets ``Y (m, C)``, the posterior mean
``k(x, X) (K + sigma^2 I)^-1 Y`` and the latent variance ``s - k(x, X) (K + sigma^2 I)^-1 k(X, x)``
(shared by the ``C`` outputs), both through one Cholesky factor. Hyperparameters ``l, s, sigma`` are
fitted by Adam on the log marginal likelihood (summed over the outputs), starting from the median
pairwise distance.

`GPDetector` (the GP-DNN hybrid) puts that GP on a trained network's hidden features (by default the
output of the last ReLU before the logits) of ``points`` training images with one-hot targets.
Its prediction is the argmax of the GP mean (the forward pass returns ``scale x mean`` as logits,
differentiable end to end), its confidence the largest mean, and its uncertainty the predictive
variance. `reject(x)` abstains where the variance exceeds the ``1 - fpr`` empirical quantile of the
variances of held-out clean calibration images, so about a fraction ``fpr`` of clean inputs are
rejected (conformal validity for exchangeable data).

`GPAwarePGD` is Grosse et al.'s attack on the detector itself: PGD that maximises the GP's
confidence in a wrong class (the margin ``max_{j != y} mean_j - mean_y``) while penalising any
variance above that of the benign input, so the adversarial example is no more uncertain than the
clean one and passes the variance test.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from core.errors import InputError
from robust.attacks.base import check_budget
from robust.attacks.pgd import PGD
from robust.guard import evaluation_mode

__all__ = ["ExactGP", "GPAwarePGD", "GPDetector", "conformal_threshold"]


def conformal_threshold(scores: Tensor, fpr: float) -> float:
    """The score above which about a fraction `fpr` of inputs like ``scores (m,)`` lie.

    The ``ceil((m + 1)(1 - fpr))``-th smallest calibration score (split-conformal quantile): for a new
    exchangeable clean score, ``P(score > threshold) <= fpr``. With too few scores for that rank it
    is ``inf`` (nothing is rejected).
    """
    check_budget("fpr", fpr)
    if not 0 < fpr < 1:
        raise InputError("the false-positive rate must lie in (0, 1)", item=f"fpr={fpr}")
    if scores.ndim != 1 or len(scores) == 0:
        raise InputError(
            "calibration scores must be a non-empty (m,) tensor", item=f"shape {tuple(scores.shape)}"
        )
    rank = math.ceil((len(scores) + 1) * (1 - fpr))
    if rank > len(scores):
        return float("inf")
    return float(scores.sort().values[rank - 1])


class ExactGP(nn.Module):
    """Exact GP regression with a squared-exponential kernel on ``x (m, d)`` and targets ``y (m, C)``.

    Args:
        x: training inputs ``(m, d)``.
        y: targets ``(m, C)`` (or ``(m,)`` for one output).
        lengthscale, signal, noise: the kernel's ``l``, ``s`` and the noise variance ``sigma^2``
            (all > 0). `fit_hyperparameters` chooses them by marginal likelihood.

    ``posterior(x) -> (mean (n, C), variance (n,))``: the latent function's variance (without noise).
    """

    def __init__(
        self, x: Tensor, y: Tensor, *, lengthscale: float = 1.0, signal: float = 1.0, noise: float = 0.1
    ):
        super().__init__()
        if x.ndim != 2 or len(x) == 0:
            raise InputError(
                "GP training inputs must be a non-empty (m, d) tensor", item=f"shape {tuple(x.shape)}"
            )
        y = y[:, None] if y.ndim == 1 else y
        if y.ndim != 2 or len(y) != len(x):
            raise InputError(f"GP targets must have shape ({len(x)}, C)", item=f"shape {tuple(y.shape)}")
        for name, value in (("lengthscale", lengthscale), ("signal", signal), ("noise", noise)):
            check_budget(name, value, positive=True)
        self.register_buffer("x_train", x.detach().clone())
        self.register_buffer("y_train", y.detach().clone().to(x.dtype))
        self.lengthscale, self.signal, self.noise = float(lengthscale), float(signal), float(noise)
        self._factorise()

    def kernel(self, a: Tensor, b: Tensor, lengthscale: Tensor | float | None = None, signal=None) -> Tensor:
        """``(n, m)`` squared-exponential kernel matrix."""
        lengthscale = self.lengthscale if lengthscale is None else lengthscale
        signal = self.signal if signal is None else signal
        squared = (a.pow(2).sum(1, keepdim=True) - 2 * a @ b.T + b.pow(2).sum(1)).clamp_min(0)
        return signal * torch.exp(-squared / (2 * lengthscale**2))

    def _factorise(self) -> None:
        m = len(self.x_train)
        gram = self.kernel(self.x_train, self.x_train) + self.noise * torch.eye(m, dtype=self.x_train.dtype)
        self.cholesky = torch.linalg.cholesky(gram)
        self.alpha = torch.cholesky_solve(self.y_train, self.cholesky)

    def posterior(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Posterior mean ``(n, C)`` and latent variance ``(n,)`` at ``x (n, d)`` (differentiable in ``x``)."""
        if x.ndim != 2 or x.shape[1] != self.x_train.shape[1]:
            raise InputError(
                f"GP inputs must have shape (n, {self.x_train.shape[1]})", item=f"shape {tuple(x.shape)}"
            )
        cross = self.kernel(x.to(self.x_train.dtype), self.x_train)  # (n, m)
        mean = cross @ self.alpha
        v = torch.linalg.solve_triangular(self.cholesky, cross.T, upper=False)  # (m, n)
        variance = (self.signal - v.pow(2).sum(0)).clamp_min(1e-12)
        return mean, variance

    def log_marginal_likelihood(self) -> float:
        """Log evidence of the targets under the current hyperparameters (summed over outputs)."""
        with torch.no_grad():
            return float(_lml(self.x_train, self.y_train, self.lengthscale, self.signal, self.noise, self))

    def fit_hyperparameters(self, steps: int = 100, lr: float = 0.05) -> ExactGP:
        """Adam on ``log l, log s, log sigma^2`` maximising the log marginal likelihood; refactorises."""
        check_budget("steps", steps, integer=True)
        distances = torch.cdist(self.x_train, self.x_train)
        start = distances[distances > 0].median() if bool((distances > 0).any()) else torch.tensor(1.0)
        logs = torch.tensor(
            [math.log(float(start)), math.log(self.signal), math.log(self.noise)], dtype=torch.float64
        ).requires_grad_(True)
        x, y = self.x_train.double(), self.y_train.double()
        first, second = torch.zeros_like(logs), torch.zeros_like(logs)
        for step in range(1, steps + 1):  # Adam, written out (torch.optim imports torch._dynamo: seconds)
            length, s, n = logs.clamp(-12, 12).exp()
            (grad,) = torch.autograd.grad(-_lml(x, y, length, s, n, self) / len(x), logs)
            first = 0.9 * first + 0.1 * grad
            second = 0.999 * second + 0.001 * grad.pow(2)
            update = lr * (first / (1 - 0.9**step)) / ((second / (1 - 0.999**step)).sqrt() + 1e-8)
            logs = (logs.detach() - update).requires_grad_(True)
        self.lengthscale, self.signal, self.noise = (float(v) for v in logs.detach().clamp(-12, 12).exp())
        self.noise = max(self.noise, 1e-6)
        self._factorise()
        return self


def _lml(x: Tensor, y: Tensor, lengthscale, signal, noise, gp: ExactGP) -> Tensor:
    m, outputs = y.shape
    gram = gp.kernel(x, x, lengthscale, signal) + noise * torch.eye(m, dtype=x.dtype)
    chol = torch.linalg.cholesky(gram)
    alpha = torch.cholesky_solve(y, chol)
    fit = -0.5 * (y * alpha).sum()
    log_det = torch.log(torch.diagonal(chol)).sum()
    return fit - outputs * log_det - 0.5 * m * outputs * math.log(2 * math.pi)


def _last_hidden(model: nn.Sequential) -> int:
    relus = [i for i, layer in enumerate(model) if isinstance(layer, nn.ReLU)]
    if not relus:
        raise InputError("the network has no ReLU: give feature_layer", item=type(model).__name__)
    return relus[-1]


class GPDetector(nn.Module):
    """A GP on a trained network's hidden features that classifies and rejects by its variance.

    Args:
        model: trained ``nn.Sequential`` classifier (not modified).
        x_train, y_train: images and int64 labels; `points` of them (a seeded random subset) are the
            GP's training points.
        x_calibration: held-out clean images (not in `x_train`) that set the rejection threshold.
        feature_layer: index of ``model``'s child whose (flattened) output is the GP input
            (default: the last ReLU).
        points: GP training points (the exact GP costs ``points^3`` once).
        fpr: the clean false-positive (rejection) rate `reject` is calibrated to.
        scale: forward returns ``scale x mean`` as logits.
        fit_steps: Adam steps on the marginal likelihood (0: keep the median-distance lengthscale
            with signal 1 and noise 0.1).
        num_classes: number of classes (default: the model's output width).
        seed: the subset's generator.
    """

    def __init__(
        self,
        model: nn.Sequential,
        x_train: Tensor,
        y_train: Tensor,
        x_calibration: Tensor,
        *,
        feature_layer: int | None = None,
        points: int = 300,
        fpr: float = 0.05,
        scale: float = 10.0,
        fit_steps: int = 100,
        num_classes: int | None = None,
        seed: int = 0,
    ) -> None:
        super().__init__()
        if not isinstance(model, nn.Sequential) or len(model) == 0:
            raise InputError("GPDetector needs a non-empty nn.Sequential model", item=type(model).__name__)
        check_budget("points", points, positive=True, integer=True)
        check_budget("scale", scale, positive=True)
        layer = _last_hidden(model) if feature_layer is None else feature_layer
        if isinstance(layer, bool) or not isinstance(layer, int) or not 0 <= layer < len(model):
            raise InputError(
                f"feature_layer must lie in 0..{len(model) - 1}", item=f"feature_layer={layer!r}"
            )
        if not torch.is_tensor(y_train) or y_train.dtype != torch.int64 or y_train.shape != (len(x_train),):
            raise InputError(f"y_train must be an int64 tensor of shape ({len(x_train)},)")
        if points > len(x_train):
            raise InputError(f"points must be <= the {len(x_train)} training images", item=f"points={points}")
        if len(x_calibration) == 0:
            raise InputError("GPDetector needs a non-empty calibration set")
        self.model, self.feature_layer, self.scale = model, layer, float(scale)
        self.fpr = float(fpr)
        self.features = model[: layer + 1]
        with evaluation_mode(model), torch.no_grad():
            width = model(x_train[:1]).shape[1]
        self.num_classes = width if num_classes is None else num_classes
        if int(y_train.max()) >= self.num_classes or int(y_train.min()) < 0:
            raise InputError(f"labels must lie in 0..{self.num_classes - 1}")
        subset = torch.randperm(len(x_train), generator=torch.Generator().manual_seed(seed))[:points]
        with evaluation_mode(model), torch.no_grad():
            h = self.features(x_train[subset]).flatten(1).double()
        targets = nn.functional.one_hot(y_train[subset], self.num_classes).double()
        self.gp = ExactGP(h, targets)
        if fit_steps:
            self.gp.fit_hyperparameters(fit_steps)
        else:
            distances = torch.cdist(h, h)
            self.gp = ExactGP(h, targets, lengthscale=float(distances[distances > 0].median()))
        self.threshold = conformal_threshold(self.variance(x_calibration).detach(), fpr)

    def posterior(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """GP mean ``(n, classes)`` and variance ``(n,)`` of images ``x`` (differentiable)."""
        with evaluation_mode(self.model):
            h = self.features(x).flatten(1)
        mean, variance = self.gp.posterior(h)
        return mean.to(x.dtype), variance.to(x.dtype)

    def variance(self, x: Tensor) -> Tensor:
        """``(n,)`` predictive (latent) variance, batched."""
        return torch.cat([self.posterior(x[s : s + 500])[1] for s in range(0, len(x), 500)])

    def confidence(self, x: Tensor) -> Tensor:
        """``(n,)`` the largest GP mean."""
        return torch.cat([self.posterior(x[s : s + 500])[0].max(1).values for s in range(0, len(x), 500)])

    def reject(self, x: Tensor) -> Tensor:
        """``(n,)`` bool: variance above the calibrated threshold."""
        with torch.no_grad():
            return self.variance(x) > self.threshold

    def forward(self, x: Tensor) -> Tensor:
        return self.scale * self.posterior(x)[0]


class GPAwarePGD(PGD):
    """Grosse et al.'s attack: maximise the GP's wrong-class confidence, variance no larger than the clean one.

    Takes PGD's arguments plus ``weight`` (the penalty on ``relu(var(x_adv) - v) / v``) and
    ``reference``: ``"clean"`` (the paper's constraint: ``v`` is the benign input's variance) or
    ``"threshold"`` (``v`` is the detector's rejection threshold: the weakest constraint that still
    passes the test). ``model`` must be a `GPDetector`. Success (for restarts): misclassified and not
    rejected.
    """

    name = "pgd-gp"

    def __init__(
        self,
        model: GPDetector,
        *args: object,
        weight: float = 1.0,
        reference: str = "clean",
        **kwargs: object,
    ) -> None:
        if not isinstance(model, GPDetector):
            raise InputError("GPAwarePGD attacks a GPDetector", item=type(model).__name__)
        if reference not in ("clean", "threshold"):
            raise InputError(
                "unknown reference", item=f"reference={reference!r}", expected="'clean' or 'threshold'"
            )
        super().__init__(model, *args, **kwargs)  # type: ignore[arg-type]
        check_budget("weight", weight)
        self.detector, self.weight, self.reference = model, float(weight), reference
        self._reference: Tensor | None = None

    def perturb(self, x: Tensor, y: Tensor) -> Tensor:
        with torch.no_grad():
            clean = self.detector.posterior(x)[1]
        self._reference = (
            clean if self.reference == "clean" else torch.full_like(clean, self.detector.threshold)
        )
        try:
            return super().perturb(x, y)
        finally:
            self._reference = None

    def loss_gradient(self, x: Tensor, y: Tensor, active: Tensor | None = None) -> Tensor:
        point = x.detach().requires_grad_(True)
        mean, variance = self.detector.posterior(point)
        true = mean.gather(1, y[:, None])[:, 0]
        wrong = mean.scatter(1, y[:, None], float("-inf")).max(1).values
        margin = true - wrong if self.targeted else wrong - true
        reference = self._reference if self._reference is not None else variance.detach()
        penalty = torch.relu(variance - reference) / reference
        (grad,) = torch.autograd.grad((margin - self.weight * penalty).sum(), point)
        self._charge(1, active)
        return grad

    def succeeded(self, x_adv: Tensor, y: Tensor) -> Tensor:
        fooled = super().succeeded(x_adv, y)
        return fooled & ~self.detector.reject(x_adv)

    def budget(self) -> dict[str, object]:
        return {**super().budget(), "weight": self.weight, "reference": self.reference}
