"""Relational forward models (Tacchetti et al., ICLR 2019) on cooperative navigation.

The state is a fully connected graph: one node per agent and per landmark with features
[x, y (scaled to [0, 1]), is_agent, is_landmark, previous action one-hot (5; zeros for landmarks and at
the start)]. One graph-network block (Battaglia et al. 2018) computes

    e'_{s→r} = φ_e([v_s, v_r, p_s − p_r])          for every ordered pair s ≠ r,
    h_r      = φ_v([v_r, Σ_s e'_{s→r}]),            logits_r = W h_r,

φ_e and φ_v ReLU MLPs, and predicts every agent node's next action from its logits. Nothing in it
depends on the nodes' order, so it is permutation-equivariant over agents and entities (tested, and
checked against a torch-geometric ``MessagePassing`` layer with the same weights).

The RFM is trained by cross-entropy on the scripted teammates' actions (`hrl.envs.coop_nav`).
Interpretability (the paper's edge-activation analyses): the norm of e'_{ℓ→j}, landmark ℓ to teammate
j, is read out; `edge_readout` measures how often the landmark with the largest edge norm is the one
the teammate is walking to. `RFMFeatures` augments the learner's observation with the RFM's output
(the teammates' predicted action distributions and the learner node's embedding h_0): the paper's
"agents with RFM embeddings".
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from hrl.envs.coop_nav import N_ACTIONS, CoopNavEnv, CoopNavLearnerEnv

__all__ = [
    "NODE_FEATURES",
    "RFMFeatures",
    "RelationalForwardModel",
    "collect_rfm_data",
    "edge_readout",
    "graph_nodes",
    "rfm_accuracy",
    "train_rfm",
]

NODE_FEATURES = 4 + N_ACTIONS


def graph_nodes(game: CoopNavEnv) -> np.ndarray:
    """The graph's node features: (n_agents + n_landmarks, NODE_FEATURES) float32 (module docstring)."""
    n, scale = game.n_agents, game.size - 1
    nodes = np.zeros((n + game.n_landmarks, NODE_FEATURES), np.float32)
    nodes[:n, :2] = game.positions / scale
    nodes[n:, :2] = game.landmarks / scale
    nodes[:n, 2] = 1.0
    nodes[n:, 3] = 1.0
    for i, action in enumerate(game.last_actions):
        if action >= 0:
            nodes[i, 4 + action] = 1.0
    return nodes


def _mlp(in_dim: int, hidden: int, out_dim: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(in_dim, hidden), nn.ReLU(), nn.Linear(hidden, out_dim), nn.ReLU())


class RelationalForwardModel(nn.Module):
    """One graph-network block over a fully connected graph and an action head (module docstring).

    Args:
        hidden: width of the edge and node MLPs and of the embeddings.
    """

    def __init__(self, hidden: int = 32) -> None:
        super().__init__()
        self.hidden = hidden
        self.edge = _mlp(2 * NODE_FEATURES + 2, hidden, hidden)
        self.node = _mlp(NODE_FEATURES + hidden, hidden, hidden)
        self.head = nn.Linear(hidden, N_ACTIONS)

    def forward(self, nodes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """nodes (B, V, F) -> (logits (B, V, 5), embeddings h (B, V, H), edges e' (B, V_s, V_r, H), e'
        zero on the diagonal)."""
        b, v, _ = nodes.shape
        senders = nodes.unsqueeze(2).expand(b, v, v, -1)
        receivers = nodes.unsqueeze(1).expand(b, v, v, -1)
        offset = senders[..., :2] - receivers[..., :2]
        edges = self.edge(torch.cat([senders, receivers, offset], -1))
        edges = edges * (1.0 - torch.eye(v, device=nodes.device)).view(1, v, v, 1)
        embeddings = self.node(torch.cat([nodes, edges.sum(1)], -1))
        return self.head(embeddings), embeddings, edges


def collect_rfm_data(episodes: int, seed: int, **env_kwargs: Any) -> dict[str, np.ndarray]:
    """Graphs and the actions that followed, from `CoopNavLearnerEnv` with a uniformly random learner.

    Returns:
        ``nodes`` (T, V, F), ``actions`` (T, N) every agent's action from that state, ``targets``
        (T, N - 1) the teammates' landmarks.
    """
    env = CoopNavLearnerEnv(**env_kwargs)
    rng = np.random.default_rng(seed)
    nodes, actions, targets = [], [], []
    for episode in range(episodes):
        env.reset(seed=int(seed * 100_003 + episode))
        done = False
        while not done:
            nodes.append(graph_nodes(env.game))
            targets.append(env.targets())
            mates = env.teammate_actions()
            mine = int(rng.integers(N_ACTIONS))
            names = env.game.possible_agents
            _, _, _, trunc, _ = env.game.step(dict(zip(names, [mine, *mates.tolist()])))
            actions.append([mine, *mates.tolist()])
            done = trunc["agent_0"]
    return {"nodes": np.stack(nodes), "actions": np.array(actions), "targets": np.stack(targets)}


def _teammate_loss(model: RelationalForwardModel, nodes: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
    n = actions.shape[1]
    logits = model(nodes)[0][:, 1:n]
    return F.cross_entropy(logits.reshape(-1, N_ACTIONS), actions[:, 1:].reshape(-1))


def train_rfm(
    data: dict[str, np.ndarray],
    epochs: int = 15,
    hidden: int = 32,
    lr: float = 1e-2,
    batch: int = 64,
    seed: int = 0,
) -> RelationalForwardModel:
    """Fit an RFM to the teammates' actions in `data` (Adam, minibatches drawn from a seeded generator)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = RelationalForwardModel(hidden)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    nodes = torch.as_tensor(data["nodes"])
    actions = torch.as_tensor(data["actions"], dtype=torch.int64)
    generator = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        order = torch.randperm(len(nodes), generator=generator)
        for start in range(0, len(nodes), batch):
            idx = order[start : start + batch]
            loss = _teammate_loss(model, nodes[idx], actions[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return model


@torch.no_grad()
def rfm_accuracy(model: RelationalForwardModel, data: dict[str, np.ndarray]) -> float:
    """Fraction of the teammates' actions the RFM's argmax predicts."""
    n = data["actions"].shape[1]
    logits = model(torch.as_tensor(data["nodes"]))[0][:, 1:n]
    return float((logits.argmax(-1).numpy() == data["actions"][:, 1:]).mean())


@torch.no_grad()
def edge_readout(model: RelationalForwardModel, data: dict[str, np.ndarray]) -> dict[str, float]:
    """Edge activations ‖e'_{landmark→teammate}‖ against the landmark each teammate walks to.

    Returns:
        ``target_is_max``: fraction of (state, teammate) pairs where the target landmark's edge has the
        largest norm of all landmark edges into that teammate (chance 1 / n_landmarks); ``target_is_min``
        the same for the smallest norm (a readout may carry the signal either way);
        ``target_norm`` and ``other_norm``: mean norms of target and other landmark edges; ``chance``.
    """
    n = data["actions"].shape[1]
    edges = model(torch.as_tensor(data["nodes"]))[2]  # (T, V_s, V_r, H)
    norms = edges[:, n:, 1:n].norm(dim=-1).numpy()  # (T, L, N - 1): landmark -> teammate
    targets = data["targets"]  # (T, N - 1)
    picked = np.take_along_axis(norms, targets[:, None, :], axis=1)[:, 0]  # (T, N - 1)
    is_max = norms.argmax(1) == targets
    landmarks = norms.shape[1]
    others = (norms.sum(1) - picked) / (landmarks - 1)
    return {
        "target_is_max": float(is_max.mean()),
        "target_is_min": float((norms.argmin(1) == targets).mean()),
        "target_norm": float(picked.mean()),
        "other_norm": float(others.mean()),
        "chance": 1.0 / landmarks,
    }


class RFMFeatures:
    """``fn(env) -> features`` for `CoopNavLearnerEnv(augment=...)`: the teammates' predicted action
    distributions ((N - 1) x 5) and the learner node's embedding h_0 (H), from a trained (frozen) RFM."""

    def __init__(self, model: RelationalForwardModel, n_agents: int) -> None:
        self.model, self.n_agents = model.eval(), n_agents
        self.dim = (n_agents - 1) * N_ACTIONS + model.hidden

    @torch.no_grad()
    def __call__(self, env: CoopNavLearnerEnv) -> np.ndarray:
        logits, embeddings, _ = self.model(torch.as_tensor(graph_nodes(env.game)).unsqueeze(0))
        probs = logits[0, 1 : self.n_agents].softmax(-1).reshape(-1)
        return torch.cat([probs, embeddings[0, 0]]).numpy()
