"""Causal InfoGAN planning over T's likelihood (against scipy's Gaussian density) and the noise-free generator."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.stats import chi2, multivariate_normal

from core.errors import InputError
from genmodels.causal_infogan import (
    CausalInfoGAN,
    decode_plan,
    fit_causal_infogan,
    graph_path,
    transition_graph,
)
from genmodels.config import CausalInfoGANConfig, CausalInfoGANRunConfig, TrainConfig
from genmodels.maze import Maze


def _model(**config) -> CausalInfoGAN:
    torch.manual_seed(0)
    return CausalInfoGAN(CausalInfoGANConfig(obs_dim=64, hidden=16, **config))


def test_the_likelihood_graph_is_t_inside_its_95_percent_region_weighted_by_its_negative_log_density():
    model = _model(transition="learned")
    with torch.no_grad():  # a T that shifts and scales differently at every code
        model.transition[-1].weight.normal_(0.0, 0.5)
        model.transition[-1].bias.normal_(0.0, 0.05)
    nodes = np.random.default_rng(0).uniform(-1, 1, size=(60, 2))
    graph = transition_graph(model, nodes).toarray()
    mean, sd = (
        v.detach().double().numpy()
        for v in model.transition_moments(torch.as_tensor(nodes, dtype=torch.float32))
    )
    offset = np.log(sd).sum(1).min() + np.log(2 * np.pi)  # d/2 log(2 pi) with d = 2
    edges = 0
    for i in range(len(nodes)):
        density = multivariate_normal(mean[i], np.diag(sd[i] ** 2))
        for j in range(len(nodes)):
            d2 = (((nodes[j] - mean[i]) / sd[i]) ** 2).sum()
            if i != j and d2 <= chi2.ppf(0.95, 2):
                edges += 1
                assert graph[i, j] == pytest.approx(-density.logpdf(nodes[j]) - offset + 1e-9, abs=1e-6)
            else:
                assert graph[i, j] == 0
    assert edges > 20 and not np.allclose(graph, graph.T)  # directed, and not empty
    with pytest.raises(InputError, match="level"):
        transition_graph(model, nodes, level=1.0)


def test_graph_path_follows_edge_directions():
    from scipy.sparse import csr_matrix

    graph = csr_matrix(np.array([[0, 1.0, 0], [0, 0, 1.0], [5.0, 0, 0]]))
    assert graph_path(graph, 0, 2) == [0, 1, 2]
    assert graph_path(graph, 2, 1) == [2, 0, 1]  # the back edge 1 -> 0 does not exist
    assert graph_path(graph, 1, 0) == [1, 2, 0]
    assert graph_path(csr_matrix(np.array([[0, 1.0], [0, 0]])), 1, 0) is None


def test_a_causal_infogan_without_noise_trains_and_plans():
    pairs = torch.from_numpy(Maze(size=8).pairs(64, seed=0))
    config = CausalInfoGANRunConfig(
        CausalInfoGANConfig(obs_dim=64, hidden=16, noise_dim=0),
        TrainConfig(epochs=1, batch_size=32, learning_rate=1e-3),
    )
    model, history = fit_causal_infogan(pairs, config)
    assert len(history) == 1 and np.isfinite(history[0]["generator"])
    z = torch.zeros(1, 0)
    frames = decode_plan(model, np.array([[0.0, 0.0], [0.1, 0.0], [0.2, 0.1]]), z)
    assert frames.shape == (3, 64)
    with pytest.raises(InputError, match="noise_dim >= 0"):
        CausalInfoGANConfig(noise_dim=-1)


def test_a_path_that_steps_onto_the_wall_line_and_off_it_crosses_the_wall():
    path = np.array([[0.45, 0.3], [0.5, 0.3], [0.55, 0.3], [0.5, 0.85], [0.55, 0.85]])
    # left -> onto the line -> right (outside the door: through the wall); back onto the line in the door; out
    assert Maze().crosses_wall(path[:-1], path[1:]).tolist() == [False, True, False, False]
