"""MAX's forward models and novelty on continuous states (Shyam, Jaskowski and Gomez, ICML 2019, sec. 3).

- `GaussianEnsemble`: K probabilistic forward models p_k(s' | s, a) = N(s + mu_k(s, a), diag sigma_k^2(s, a)),
  one `hrl.networks.EnsembleMLP` whose members output the mean and log-variance of the standardised
  state change; log-variances are soft-clamped to [min_log_var, max_log_var] (as in PETS); each member is
  fitted by Gaussian negative log-likelihood on minibatches drawn with its own bootstrap weights
  (a Poisson(1) count per member for every stored transition: the online bootstrap).
- `gaussian_jrd`: the Jensen-Renyi divergence of order 2 among K equally weighted Gaussians,
  JRD = H_2(1/K sum_k N_k) - 1/K sum_k H_2(N_k), H_2(p) = -log int p^2, in closed form because
  int N_i N_j = N(mu_i; mu_j, Sigma_i + Sigma_j) (the paper's eq. for Gaussian models; zero when the
  members agree, growing as they disagree). It is invariant to a common affine change of coordinates,
  so it is computed on the standardised state changes.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F

from core.errors import InputError
from hrl.networks import EnsembleMLP

__all__ = ["GaussianEnsemble", "gaussian_jrd", "renyi2_entropy_gaussian"]


def renyi2_entropy_gaussian(var: torch.Tensor) -> torch.Tensor:
    """H_2 of N(mu, diag var) = 1/2 sum_d log(4 pi var_d): (..., d) -> (...)."""
    return 0.5 * torch.log(4 * math.pi * var).sum(-1)


def gaussian_jrd(mean: torch.Tensor, var: torch.Tensor) -> torch.Tensor:
    """Jensen-Renyi divergence (order 2) among K diagonal Gaussians, per row.

    Args:
        mean, var: (K, B, d) means and variances (var > 0) of the K members for B inputs.

    Returns:
        (B,) JRD in nats: H_2 of the equal mixture minus the members' mean H_2 (0 for identical members).

    Raises:
        InputError: shapes that differ or are not (K, B, d).
    """
    if mean.shape != var.shape or mean.dim() != 3:
        raise InputError(
            "gaussian_jrd needs mean and var of one shape (K, B, d)", item=(mean.shape, var.shape)
        )
    members = mean.shape[0]
    diff = mean[:, None] - mean[None]  # (K, K, B, d)
    total = var[:, None] + var[None]
    log_overlap = -0.5 * (diff**2 / total + torch.log(2 * math.pi * total)).sum(-1)  # log int N_i N_j
    mixture = 2 * math.log(members) - torch.logsumexp(log_overlap.reshape(members * members, -1), dim=0)
    return mixture - renyi2_entropy_gaussian(var).mean(0)


class GaussianEnsemble:
    """K Gaussian forward models of (s, a) -> s' (see the module docstring).

    Args:
        obs_dim, action_dim: widths of s and a.
        members: K (>= 2). hidden: hidden widths. lr: Adam step size.
        seed: initial weights, bootstrap counts, minibatches and samples.
        min_log_var, max_log_var: the soft bounds of the standardised log-variance.
    """

    def __init__(
        self,
        obs_dim: int,
        action_dim: int,
        *,
        members: int = 32,
        hidden: tuple[int, ...] = (512, 512, 512, 512),
        lr: float = 1e-3,
        seed: int = 0,
        min_log_var: float = -10.0,
        max_log_var: float = 0.5,
    ) -> None:
        if not isinstance(members, int) or members < 2:
            raise InputError("GaussianEnsemble.members must be an integer >= 2", item=members)
        self.obs_dim, self.action_dim, self.members = obs_dim, action_dim, members
        self.min_log_var, self.max_log_var = min_log_var, max_log_var
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.net = EnsembleMLP(members, obs_dim + action_dim, hidden, 2 * obs_dim)
        self.optimizer = torch.optim.Adam(self.net.parameters(), lr=lr)
        self.generator = torch.Generator().manual_seed(seed + 1)
        self.in_mean = torch.zeros(obs_dim + action_dim)
        self.in_std = torch.ones(obs_dim + action_dim)
        self.out_mean, self.out_std = torch.zeros(obs_dim), torch.ones(obs_dim)

    # -------------------------------------------------------------- predicting
    def standardised(self, obs: torch.Tensor, action: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and variance of every member's standardised state change: (B, dims) -> 2 x (K, B, obs_dim)."""
        out = self.net((torch.cat([obs, action], dim=-1) - self.in_mean) / self.in_std)
        mean, raw = out.chunk(2, dim=-1)
        log_var = self.max_log_var - F.softplus(self.max_log_var - raw)
        log_var = self.min_log_var + F.softplus(log_var - self.min_log_var)
        return mean, log_var.exp()

    def next_state(self, obs: torch.Tensor, action: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Every member's mean and variance of s' in state units: 2 x (K, B, obs_dim)."""
        mean, var = self.standardised(obs, action)
        return obs + self.out_mean + mean * self.out_std, var * self.out_std**2

    @torch.no_grad()
    def novelty(self, obs: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
        """MAX's utility u(s, a): the members' Jensen-Renyi divergence about s', (B,) nats."""
        return gaussian_jrd(*self.standardised(obs, action))

    @torch.no_grad()
    def sample(self, obs: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
        """s' drawn from one member chosen at random per row (MAX's imagined step): (B, obs_dim)."""
        mean, var = self.next_state(obs, action)
        rows = torch.arange(len(obs))
        pick = torch.randint(0, self.members, (len(obs),), generator=self.generator)
        noise = torch.randn(obs.shape, generator=self.generator)
        return mean[pick, rows] + var[pick, rows].sqrt() * noise

    # ---------------------------------------------------------------- fitting
    def bootstrap_counts(self, n: int) -> torch.Tensor:
        """Poisson(1) counts (n, K) for n new transitions: how often each member sees each one."""
        return torch.poisson(torch.ones(n, self.members), generator=self.generator)

    def fit(
        self,
        obs: torch.Tensor,
        action: torch.Tensor,
        next_obs: torch.Tensor,
        counts: torch.Tensor,
        *,
        steps: int,
        batch_size: int,
    ) -> float:
        """Restandardise on the data, then `steps` Adam steps of every member's Gaussian NLL.

        Args:
            obs, action, next_obs: (N, dims) every stored transition.
            counts: (N, K) bootstrap counts (member k draws row i with probability counts[i, k] / sum).

        Returns:
            the last step's mean NLL (standardised units).
        """
        n = len(obs)
        if n < 2 or len(action) != n or len(next_obs) != n or counts.shape != (n, self.members):
            raise InputError(
                "GaussianEnsemble.fit needs >= 2 transitions and (N, K) counts",
                item=(n, len(action), len(next_obs), tuple(counts.shape)),
            )
        inputs = torch.cat([obs, action], dim=-1)
        change = next_obs - obs
        self.in_mean, self.in_std = inputs.mean(0), inputs.std(0).clamp_min(1e-6)
        self.out_mean, self.out_std = change.mean(0), change.std(0).clamp_min(1e-6)
        inputs = (inputs - self.in_mean) / self.in_std
        targets = (change - self.out_mean) / self.out_std
        weights = counts.T + 1e-6  # (K, N); the epsilon keeps a member with no counts drawable
        loss_value = 0.0
        for _ in range(steps):
            rows = torch.multinomial(weights, batch_size, replacement=True, generator=self.generator)
            out = self.net(inputs[rows])  # (K, batch, 2 obs_dim)
            mean, raw = out.chunk(2, dim=-1)
            log_var = self.max_log_var - F.softplus(self.max_log_var - raw)
            log_var = self.min_log_var + F.softplus(log_var - self.min_log_var)
            loss = 0.5 * ((targets[rows] - mean) ** 2 * torch.exp(-log_var) + log_var).mean()
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            loss_value = float(loss.detach())
        return loss_value

    # ------------------------------------------------------------ persistence
    def state_dict(self) -> dict[str, Any]:
        return {
            "net": self.net.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "generator": self.generator.get_state(),
            "normalisers": torch.cat([self.in_mean, self.in_std, self.out_mean, self.out_std]),
        }

    def load_state_dict(self, state: dict[str, Any], *, source: object = "checkpoint") -> None:
        from core.checkpoint import load_state_into

        load_state_into(self.net, state["net"], source=source)
        self.optimizer.load_state_dict(state["optimizer"])
        self.generator.set_state(state["generator"].to(torch.uint8).cpu())
        width = self.obs_dim + self.action_dim
        self.in_mean, self.in_std, self.out_mean, self.out_std = (
            state["normalisers"].float().split([width, width, self.obs_dim, self.obs_dim])
        )
