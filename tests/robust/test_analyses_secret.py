"""The secret sharer's exposure: exact rank, the skew-normal approximation, candidate perplexities."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from core.errors import InputError
from robust.analyses import secret_sharer as ss


def test_exposure_is_log_size_minus_log_rank():
    p = np.array([3.0, 1.0, 2.0, 5.0, 4.0, 0.5, 7.0, 6.0])
    assert ss.exposure(p, 5) == pytest.approx(3.0)  # rank 1 of 8
    assert ss.exposure(p, 0) == pytest.approx(3.0 - np.log2(4))  # 0.5, 1, 2 are lower
    with pytest.raises(InputError, match="outside"):
        ss.exposure(p, 8)


def test_perplexities_match_step_by_step_scoring_and_skew_normal_matches_enumeration():
    torch.manual_seed(0)
    model = ss.CharLM(vocab=6, hidden=16).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(3.0)  # a peaked random model, so candidates differ
    prefix = torch.tensor([4, 5, 4])
    candidates = torch.tensor(list(itertools.product(range(4), repeat=6)))  # alphabet of 4, |R| = 4096
    perplexity = ss.candidate_perplexities(model, prefix, candidates)
    with torch.no_grad():  # one candidate scored one character at a time
        tokens = torch.cat([prefix, candidates[1234]])
        direct = sum(
            -torch.log_softmax(model(tokens[None, :i])[0, -1], -1)[tokens[i]].item() / np.log(2)
            for i in range(3, 9)
        )
    assert perplexity[1234] == pytest.approx(direct, rel=1e-5)
    order = np.argsort(perplexity)
    for rank in (2048, 410, 41):  # median, top 10%, top 1%
        index = int(order[rank - 1])
        exact = ss.exposure(perplexity, index)
        approx = ss.skew_normal_exposure(perplexity, float(perplexity[index]))
        assert abs(exact - approx) < 0.5, (rank, exact, approx)
