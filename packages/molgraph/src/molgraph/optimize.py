"""Property optimisation in latent space (Jin et al. 2018, Sec. 3.2-3.3).

* `PropertyPredictor` + `fit_property_predictor`: a small MLP ``F(z)`` regressing a property
  (penalised logP) on latent means of training molecules.
* `constrained_optimisation`: from each start molecule, gradient ascent ``z <- z + lr * grad F(z)``
  for a number of steps, decoding every iterate and keeping the best molecule whose Tanimoto
  similarity to the start is at least `delta` (Sec. 3.3). Improvement and success rate as in Table 3.
* `bayesian_optimisation`: batched BO with a Gaussian process on ``(z, score)`` and expected
  improvement, the candidate batch chosen from a pool of prior draws and perturbations of the best
  points (Sec. 3.2; the paper used a sparse GP on the full training set).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from scipy.stats import norm
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel
from torch import nn

from core.errors import InputError
from core.progress import progress
from molgraph.metrics import penalized_logp, tanimoto
from molgraph.model import JTVAE

__all__ = [
    "BOResult",
    "OptimisationResult",
    "PropertyPredictor",
    "bayesian_optimisation",
    "constrained_optimisation",
    "fit_property_predictor",
]


class PropertyPredictor(nn.Module):
    """``F(z)``: latent ``(n, latent)`` -> property ``(n,)``, in the property's own units."""

    def __init__(self, latent: int, hidden: int = 64) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(latent, hidden), nn.Tanh(), nn.Linear(hidden, 1))
        self.register_buffer("y_mean", torch.zeros(()))
        self.register_buffer("y_std", torch.ones(()))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z).squeeze(-1) * self.y_std + self.y_mean


def fit_property_predictor(
    z: torch.Tensor, y: torch.Tensor, *, hidden: int = 64, epochs: int = 300, lr: float = 1e-2, seed: int = 0
) -> PropertyPredictor:
    """Fit `PropertyPredictor` by full-batch Adam on mean squared error of the standardised target.

    Args:
        z: ``(n, latent)`` latent means; y: ``(n,)`` property values.
        seed: initial weights (drawn inside ``torch.random.fork_rng``: the caller's random state
            is left as it was).
    """
    if z.shape[0] != y.shape[0] or z.shape[0] < 2:
        raise InputError("need matching z and y with at least 2 rows", item=(tuple(z.shape), tuple(y.shape)))
    with torch.random.fork_rng(devices=[]):  # nn.Linear takes no generator: seed a forked CPU state
        torch.manual_seed(seed)
        model = PropertyPredictor(z.shape[1], hidden)
    model.y_mean.fill_(float(y.mean()))
    model.y_std.fill_(float(y.std().clamp(min=1e-6)))
    target = (y - model.y_mean) / model.y_std
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=1e-4)
    for _ in range(epochs):
        loss = ((model.net(z).squeeze(-1) - target) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    return model


@dataclass(frozen=True)
class OptimisationResult:
    """One start molecule of the constrained optimisation: the best molecule found with
    ``sim >= delta`` (None if none), its score and improvement over the start."""

    start: str
    start_score: float
    best: str | None
    best_score: float
    similarity: float

    @property
    def improvement(self) -> float:
        return self.best_score - self.start_score if self.best is not None else 0.0


def constrained_optimisation(
    model: JTVAE,
    predictor: PropertyPredictor,
    starts: Sequence[str],
    *,
    delta: float = 0.4,
    steps: int = 80,
    lr: float = 2.0,
    score: Callable[[str], float] = penalized_logp,
) -> list[OptimisationResult]:
    """Gradient ascent on ``F(z)`` from each start molecule; keep the best decoded molecule with
    Tanimoto similarity ``>= delta`` to the start and a higher score (Sec. 3.3)."""
    if not 0.0 <= delta <= 1.0:
        raise InputError("similarity threshold must be in [0, 1]", item=delta)
    results = []
    z_starts = model.encode(list(starts)).cpu()
    for start, z0 in progress(list(zip(starts, z_starts)), desc="gradient ascent"):
        start_score = score(start)
        best, best_score, best_sim = None, start_score, 0.0
        z = z0.clone()
        for _ in range(steps):
            z = z.detach().requires_grad_(True)
            (grad,) = torch.autograd.grad(predictor(z[None]).sum(), z)
            z = z + lr * grad
            smiles = model.decode(z.detach())[0]
            if smiles is None:
                continue
            sim = tanimoto(start, smiles)
            value = score(smiles)
            if sim >= delta and value > best_score:
                best, best_score, best_sim = smiles, value, sim
        results.append(OptimisationResult(start, start_score, best, best_score, best_sim))
    return results


@dataclass(frozen=True)
class BOResult:
    """Every molecule scored by BO, in order, with its score; ``best`` are the top three."""

    smiles: list[str]
    scores: list[float]
    best_per_iteration: list[float]

    @property
    def best(self) -> list[tuple[str, float]]:
        order = np.argsort(self.scores)[::-1][:3]
        return [(self.smiles[i], self.scores[i]) for i in order]


def bayesian_optimisation(
    decode: Callable[[torch.Tensor], list[str | None]],
    z_train: torch.Tensor,
    y_train: torch.Tensor,
    *,
    iterations: int = 10,
    batch: int = 50,
    pool: int = 2000,
    max_points: int = 1000,
    seed: int = 0,
    score: Callable[[str], float] = penalized_logp,
) -> BOResult:
    """Batched expected-improvement BO over the latent space.

    Args:
        decode: latents ``(b, latent)`` -> SMILES or None, e.g. ``JTVAE.decode``.
        z_train, y_train: ``(n, latent)`` latents and ``(n,)`` scores the GP starts from.
        iterations, batch: rounds and proposals per round (the paper: 10 x 50).
        pool: candidate latents scored by EI each round.
        max_points: the GP is fitted on at most this many points (the best half plus a random half;
            exact GPs are cubic in the number of points).
    """
    rng = np.random.default_rng(seed)
    x = z_train.detach().cpu().numpy().astype(np.float64)
    y = y_train.detach().cpu().numpy().astype(np.float64)
    found_smiles: list[str] = []
    found_scores: list[float] = []
    best_curve = []
    for _ in progress(range(iterations), desc="bayesian optimisation"):
        # latents are ~N(0, I): one length scale between 0.1 and 10 (ARD is too slow to fit on CPU)
        kernel = ConstantKernel(1.0, (1e-2, 1e2)) * RBF(1.0, (0.1, 10.0)) + WhiteKernel(0.1, (1e-4, 1.0))
        keep = _subset(y, max_points, rng)
        gp = GaussianProcessRegressor(kernel=kernel, normalize_y=True, random_state=seed).fit(
            x[keep], y[keep]
        )
        top = x[np.argsort(y)[-10:]]
        prior = rng.standard_normal((pool // 2, x.shape[1]))
        local = top[rng.integers(0, len(top), pool - pool // 2)] + 0.5 * rng.standard_normal(
            (pool - pool // 2, x.shape[1])
        )
        cand = np.vstack([prior, local])
        chosen = _kriging_believer_batch(gp, x[keep], y[keep], cand, batch)
        decoded = decode(torch.tensor(chosen, dtype=torch.float32))
        new_x, new_y = [], []
        for z_row, smiles in zip(chosen, decoded):
            if smiles is None:
                continue
            value = score(smiles)
            found_smiles.append(smiles)
            found_scores.append(value)
            new_x.append(z_row)
            new_y.append(value)
        if new_x:
            x = np.vstack([x, np.array(new_x)])
            y = np.concatenate([y, np.array(new_y)])
        best_curve.append(max(found_scores) if found_scores else float("nan"))
    return BOResult(found_smiles, found_scores, best_curve)


def _expected_improvement(gp: GaussianProcessRegressor, cand: np.ndarray, best: float) -> np.ndarray:
    mu, sd = gp.predict(cand, return_std=True)
    sd = np.maximum(sd, 1e-9)
    gain = mu - best
    return gain * norm.cdf(gain / sd) + sd * norm.pdf(gain / sd)


def _kriging_believer_batch(
    gp: GaussianProcessRegressor, x: np.ndarray, y: np.ndarray, cand: np.ndarray, batch: int
) -> np.ndarray:
    """Pick `batch` points one at a time by EI, each time pretending the GP mean was observed there
    (the "kriging believer" heuristic), so a batch spreads out instead of piling on one optimum."""
    picks = []
    xs, ys, model = x, y, gp
    available = np.ones(len(cand), dtype=bool)
    for _ in range(min(batch, len(cand))):
        ei = np.where(available, _expected_improvement(model, cand, float(y.max())), -np.inf)
        best = int(np.argmax(ei))
        available[best] = False
        picks.append(cand[best])
        believed = model.predict(cand[best : best + 1])
        xs, ys = np.vstack([xs, cand[best : best + 1]]), np.concatenate([ys, believed])
        model = GaussianProcessRegressor(kernel=gp.kernel_, optimizer=None, normalize_y=True).fit(xs, ys)
    return np.array(picks)


def _subset(y: np.ndarray, limit: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of at most `limit` points: the best half, and a random draw from the rest."""
    if len(y) <= limit:
        return np.arange(len(y))
    order = np.argsort(y)[::-1]
    best, rest = order[: limit // 2], order[limit // 2 :]
    return np.concatenate([best, rng.choice(rest, limit - len(best), replace=False)])
