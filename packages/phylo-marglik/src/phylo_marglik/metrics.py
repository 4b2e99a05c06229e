"""The study's accuracy measures over a list of topologies.

Marginal likelihoods renormalised over the list, ``log q_t = log Z_t - logsumexp(log Z)``,
estimate topology posterior probabilities under a uniform topology prior; they are compared with
the reference (SRF) probabilities, also renormalised over the list, by

- ``KL(SRF || estimate) = sum_t p_t log(p_t / q_t)`` (nats), and
- the RMSD of split (bipartition) probabilities: a split's probability is the total probability
  of the listed topologies that contain it; the RMSD runs over the union of non-trivial splits.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.special import logsumexp

from core.errors import InputError
from phylo_marglik.tree import Topology

__all__ = ["kl_divergence", "normalize_log", "split_probabilities", "split_rmsd"]


def normalize_log(log_values: Sequence[float] | np.ndarray) -> np.ndarray:
    """``v - logsumexp(v)``: (T,) log values -> (T,) log probabilities over the list."""
    v = np.asarray(log_values, dtype=np.float64)
    if v.ndim != 1 or v.size == 0 or not np.all(np.isfinite(v)):
        raise InputError("need a non-empty 1-D array of finite log values", item=v.tolist())
    return v - logsumexp(v)


def kl_divergence(
    reference: Sequence[float] | np.ndarray, log_estimate: Sequence[float] | np.ndarray
) -> float:
    """KL(reference || estimate) in nats, both renormalised over the list.

    Args:
        reference: (T,) non-negative reference probabilities (any total).
        log_estimate: (T,) estimated log marginal likelihoods (any offset).
    """
    p = np.asarray(reference, dtype=np.float64)
    if p.shape != np.shape(log_estimate) or np.any(p < 0) or p.sum() <= 0:
        raise InputError(
            "reference probabilities must be non-negative and match the estimates", item=p.tolist()
        )
    p = p / p.sum()
    log_q = normalize_log(log_estimate)
    mask = p > 0
    return float(np.sum(p[mask] * (np.log(p[mask]) - log_q[mask])))


def split_probabilities(
    topologies: Sequence[Topology], probabilities: Sequence[float] | np.ndarray
) -> dict[int, float]:
    """``{split bit mask: probability}`` of every non-trivial split of the listed topologies."""
    p = np.asarray(probabilities, dtype=np.float64)
    if len(topologies) != p.shape[0]:
        raise InputError("one probability per topology is required", item=(len(topologies), p.shape[0]))
    result: dict[int, float] = {}
    for topology, prob in zip(topologies, p / p.sum()):
        for split in topology.splits():
            result[split] = result.get(split, 0.0) + float(prob)
    return result


def split_rmsd(
    topologies: Sequence[Topology],
    reference: Sequence[float] | np.ndarray,
    log_estimate: Sequence[float] | np.ndarray,
) -> float:
    """Root-mean-square difference of split probabilities implied by the reference and by the
    estimated marginal likelihoods, over the union of non-trivial splits."""
    ref = split_probabilities(topologies, reference)
    est = split_probabilities(topologies, np.exp(normalize_log(log_estimate)))
    splits = sorted(set(ref) | set(est))
    diffs = np.array([ref.get(s, 0.0) - est.get(s, 0.0) for s in splits])
    return float(np.sqrt(np.mean(diffs**2))) if splits else 0.0
