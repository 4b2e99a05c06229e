"""Cooperative navigation (PettingZoo / gymnasium API tests) and the relational forward model."""

import numpy as np
import pytest
import torch
from gymnasium.utils.env_checker import check_env
from pettingzoo.test import parallel_api_test

from core.errors import InputError
from hrl.envs.coop_nav import CoopNavEnv, CoopNavLearnerEnv, greedy_targets
from hrl.multiagent.rfm import (
    NODE_FEATURES,
    RelationalForwardModel,
    RFMFeatures,
    collect_rfm_data,
    rfm_accuracy,
    train_rfm,
)


def test_coop_nav_passes_the_api_tests():
    parallel_api_test(CoopNavEnv(n_agents=3, max_cycles=20), num_cycles=30)
    check_env(CoopNavLearnerEnv(), skip_render_check=True)
    model = RelationalForwardModel(8)
    features = RFMFeatures(model, 3)
    check_env(CoopNavLearnerEnv(augment=features, augment_dim=features.dim), skip_render_check=True)
    with pytest.raises(InputError, match="n_agents"):
        CoopNavEnv(n_agents=1)
    with pytest.raises(InputError, match="noise"):
        CoopNavLearnerEnv(noise=1.5)


def test_greedy_targets_by_hand():
    landmarks = np.array([[0, 0], [0, 5], [5, 5]])
    # agent 0 nearest to landmark 1; agent 1 also nearest to 1 but it is taken, so landmark 2 (distance 1)
    assert greedy_targets(np.array([[0, 4], [1, 5]]), landmarks).tolist() == [1, 2]
    assert greedy_targets(np.array([[5, 4], [0, 1]]), landmarks).tolist() == [2, 0]


def test_rfm_is_permutation_equivariant_over_nodes():
    torch.manual_seed(0)
    model = RelationalForwardModel(16)
    nodes = torch.rand(4, 6, NODE_FEATURES)
    perm = torch.tensor([3, 0, 5, 1, 4, 2])
    logits, embeddings, edges = model(nodes)
    logits_p, embeddings_p, edges_p = model(nodes[:, perm])
    assert torch.allclose(logits_p, logits[:, perm], atol=1e-5)
    assert torch.allclose(embeddings_p, embeddings[:, perm], atol=1e-5)
    assert torch.allclose(edges_p, edges[:, perm][:, :, perm], atol=1e-5)


@pytest.mark.slow
def test_rfm_equals_a_torch_geometric_message_passing_layer():
    # torch-geometric is in the workspace's bench group (importing it takes about 30 s here)
    pyg = pytest.importorskip("torch_geometric")
    from torch_geometric.nn import MessagePassing

    class Block(MessagePassing):
        def __init__(self, rfm):
            super().__init__(aggr="add")
            self.rfm = rfm

        def forward(self, x, edge_index):
            return self.rfm.node(torch.cat([x, self.propagate(edge_index, x=x)], -1))

        def message(self, x_i, x_j):  # j: sender, i: receiver
            return self.rfm.edge(torch.cat([x_j, x_i, x_j[:, :2] - x_i[:, :2]], -1))

    torch.manual_seed(1)
    model = RelationalForwardModel(16)
    nodes = torch.rand(1, 5, NODE_FEATURES)
    pairs = [(s, r) for s in range(5) for r in range(5) if s != r]
    edge_index = torch.tensor(pairs).T  # row 0 sources, row 1 targets
    assert pyg.__version__
    ours = model(nodes)[1][0]
    theirs = Block(model)(nodes[0], edge_index)
    assert torch.allclose(ours, theirs, atol=1e-5)


def test_rfm_predicts_teammates_better_than_the_most_frequent_action():
    torch.set_num_threads(1)
    train, test = collect_rfm_data(100, 0), collect_rfm_data(20, 1)
    model = train_rfm(train, epochs=15, hidden=32, lr=1e-2, batch=64, seed=0)
    mates = test["actions"][:, 1:]
    majority = np.bincount(mates.ravel()).max() / mates.size
    accuracy = rfm_accuracy(model, test)
    assert accuracy > majority + 0.08, (accuracy, majority)  # measured 0.747 against 0.58
