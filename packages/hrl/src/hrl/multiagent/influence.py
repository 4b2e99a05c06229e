"""Social influence (Jaques et al., ICML 2019): the model of other agents and the influence reward.

Agent k's influence on agent j at step t is the KL divergence between j's next-action distribution
given the action k took and its counterfactual marginal over k's actions, both read from k's model of
other agents (MOA):

    c_k^t = Σ_{j≠k} KL[ p(a_j^{t+1} | a_k^t, a_{-k}^t, o_k^t)  ||  Σ_ã π_k(ã | o_k^t) p(a_j^{t+1} | ã, a_{-k}^t, o_k^t) ].

The MOA of agent k maps its observation o_k^t and every agent's action a^t (one-hot) to logits of
every agent's action at t + 1 (its own slot is unused) and is trained by cross-entropy on the actions
that followed. Its expectation over ã ~ π_k is the mutual information between k's action and j's next
action (the paper's link to empowerment).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from hrl.networks import EnsembleMLP

__all__ = ["ModelOfOtherAgents", "influence_from_conditionals"]


def influence_from_conditionals(
    conditionals: torch.Tensor,
    policy: torch.Tensor,
    actions: torch.Tensor,
    others: torch.Tensor | None = None,
) -> torch.Tensor:
    """Influence reward from counterfactual next-action distributions.

    Args:
        conditionals: (B, A_k, J, A_j) p(a_j^{t+1} | ã_k = i, ...) for every counterfactual action i of
            the influencer and every influenced agent j (rows sum to 1).
        policy: (B, A_k) the influencer's policy π_k(ã | o_k) (rows sum to 1).
        actions: (B,) the action the influencer took.
        others: optional (B, J) weights (1 counts agent j, 0 leaves it out, e.g. the influencer itself
            or an agent off the map).

    Returns:
        (B,) Σ_j KL[p(· | a_k) || Σ_ã π_k(ã) p(· | ã)], nats.
    """
    marginal = torch.einsum("ba,bajc->bjc", policy, conditionals)  # (B, J, A_j)
    index = actions.view(-1, 1, 1, 1).expand(-1, 1, *conditionals.shape[2:])
    taken = conditionals.gather(1, index).squeeze(1)  # (B, J, A_j)
    kl = (taken * (torch.log(taken.clamp_min(1e-12)) - torch.log(marginal.clamp_min(1e-12)))).sum(-1)
    if others is not None:
        kl = kl * others
    return kl.sum(-1)


class ModelOfOtherAgents(torch.nn.Module):
    """One MOA per agent (an `EnsembleMLP` member each), evaluated together.

    Args:
        n_agents, n_actions: the game's agents and actions per agent.
        obs_dim: flattened observation size.
        hidden: hidden widths.
    """

    def __init__(self, n_agents: int, n_actions: int, obs_dim: int, hidden: tuple[int, ...]) -> None:
        super().__init__()
        self.n_agents, self.n_actions = n_agents, n_actions
        self.net = EnsembleMLP(n_agents, obs_dim + n_agents * n_actions, hidden, n_agents * n_actions)

    def logits(self, obs: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        """obs (N, B, obs_dim) each agent's observation, actions (B, N) everyone's action ->
        (N, B, N, A) logits of every agent's next action as predicted by each agent's MOA."""
        onehot = F.one_hot(actions, self.n_actions).float().reshape(actions.shape[0], -1)
        x = torch.cat([obs, onehot.expand(self.n_agents, *onehot.shape)], dim=-1)
        return self.net(x).view(self.n_agents, obs.shape[1], self.n_agents, self.n_actions)

    def loss(self, obs: torch.Tensor, actions: torch.Tensor, next_actions: torch.Tensor, mask: torch.Tensor):
        """Mean cross-entropy of each MOA's prediction of the *other* agents' next actions.

        mask (B, N): 1 where agent j's next action counts (it was on the map). Returns (loss, accuracy).
        """
        logits = self.logits(obs, actions)  # (N_k, B, N_j, A)
        target = next_actions.unsqueeze(0).expand(self.n_agents, -1, -1)
        ce = F.cross_entropy(logits.reshape(-1, self.n_actions), target.reshape(-1), reduction="none")
        weight = mask.unsqueeze(0) * (1.0 - torch.eye(self.n_agents, device=obs.device)).unsqueeze(1)
        weight = weight.reshape(-1)
        denominator = weight.sum().clamp_min(1.0)
        correct = (logits.argmax(-1).reshape(-1) == target.reshape(-1)).float()
        return (ce * weight).sum() / denominator, float((correct * weight).sum() / denominator)

    @torch.no_grad()
    def influence(
        self, obs: torch.Tensor, actions: torch.Tensor, policies: torch.Tensor, active: torch.Tensor
    ) -> torch.Tensor:
        """Each agent's influence reward c_k (module docstring).

        Args:
            obs: (N, B, obs_dim); actions: (B, N) the actions taken; policies: (N, B, A) each agent's
                π_k(· | o_k); active: (B, N) 1 where the agent was on the map (an agent off the map
                neither influences nor counts as influenced).

        Returns:
            (N, B) c_k, nats.
        """
        n, a = self.n_agents, self.n_actions
        batch = actions.shape[0]
        rewards = torch.zeros(n, batch, device=obs.device)
        for k in range(n):
            counterfactual = actions.unsqueeze(1).repeat(1, a, 1)  # (B, A, N)
            counterfactual[:, :, k] = torch.arange(a, device=obs.device)
            flat = counterfactual.reshape(batch * a, n)
            onehot = F.one_hot(flat, a).float().reshape(batch * a, -1)
            x = torch.cat([obs[k].repeat_interleave(a, dim=0), onehot], dim=-1)
            logits = self.net.member(k, x).view(batch, a, n, a)
            others = active.clone()
            others[:, k] = 0.0
            rewards[k] = influence_from_conditionals(logits.softmax(-1), policies[k], actions[:, k], others)
            rewards[k] *= active[:, k]
        return rewards
