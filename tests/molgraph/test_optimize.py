"""Latent-space optimisation: the predictor learns, BO improves on its start, constrained ascent respects delta."""

from __future__ import annotations

import pytest
import torch

from core.errors import InputError
from molgraph import bayesian_optimisation, constrained_optimisation, fit_property_predictor, tanimoto


def test_property_predictor_fits_a_smooth_function():
    g = torch.Generator().manual_seed(0)
    z = torch.randn(200, 4, generator=g)
    y = 3.0 * z[:, 0] - z[:, 1] ** 2 + 5.0
    predictor = fit_property_predictor(z, y, epochs=400)
    with torch.no_grad():
        r2 = 1.0 - ((predictor(z) - y) ** 2).mean() / y.var()
    assert r2 > 0.9  # trivial baseline (the mean) has R^2 = 0
    with pytest.raises(InputError):
        fit_property_predictor(z, y[:10])


def _chain_decoder(z: torch.Tensor) -> list[str | None]:
    """A known latent-to-molecule map: chain length grows with the mean of z."""
    return ["C" * int(min(20, max(1, round(6 + 4 * float(row.mean()))))) for row in z]


def test_bayesian_optimisation_beats_its_starting_points():
    g = torch.Generator().manual_seed(0)
    z = torch.randn(30, 3, generator=g) * 0.3 - 1.0  # start in the short-chain region
    y = torch.tensor([float(len(s)) for s in _chain_decoder(z)])
    result = bayesian_optimisation(
        _chain_decoder, z, y, iterations=4, batch=5, pool=400, score=lambda s: float(len(s))
    )
    assert max(result.scores) >= float(y.max()) + 4
    assert result.best_per_iteration == sorted(result.best_per_iteration)


def test_constrained_optimisation_respects_similarity(tiny_set, tiny_model):
    model, _ = tiny_model
    molecules = [s.smiles for s in tiny_set.samples]
    z = model.encode(molecules)
    y = torch.tensor([float(len(m)) for m in molecules])
    predictor = fit_property_predictor(z, y, epochs=50)
    results = constrained_optimisation(model, predictor, molecules[:2], delta=0.4, steps=3, lr=0.5)
    assert len(results) == 2
    for r in results:
        if r.best is not None:
            assert tanimoto(r.start, r.best) >= 0.4 and r.improvement > 0
        else:
            assert r.improvement == 0.0
    with pytest.raises(InputError, match="similarity"):
        constrained_optimisation(model, predictor, molecules[:1], delta=1.5)
