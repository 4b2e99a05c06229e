"""MB-MPO's dynamics ensemble: K MLPs predicting the state change s' - s from (s, a), each fitted on
its own bootstrap resample of the real transitions (one `hrl.networks.EnsembleMLP`, one batched matmul
per layer). Each member is one of MB-MPO's tasks."""

from __future__ import annotations

from typing import Any

from core.errors import InputError

__all__ = ["DynamicsEnsemble"]


class DynamicsEnsemble:
    """K dynamics models ``f_k(s, a) = s + g_k([s, a])``.

    Args:
        obs_dim, act_dim: state and action sizes.
        members: K (>= 1).
        hidden: hidden widths (``()``: linear models).
        seed: initial weights and bootstrap draws.
    """

    def __init__(
        self,
        obs_dim: int,
        act_dim: int,
        members: int = 5,
        hidden: tuple[int, ...] = (512, 512),
        seed: int = 0,
    ):
        import torch

        from hrl.networks import EnsembleMLP

        if not isinstance(members, int) or members < 1:
            raise InputError("DynamicsEnsemble.members must be an integer >= 1", item=members)
        self.obs_dim, self.act_dim, self.members = obs_dim, act_dim, members
        self.generator = torch.Generator().manual_seed(seed)
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            self.net = EnsembleMLP(members, obs_dim + act_dim, hidden, obs_dim)

    def predict(self, obs: Any, act: Any) -> Any:
        """Next states (members, B, obs_dim) of every member for obs (B, obs_dim), act (B, act_dim)."""
        import torch

        return obs + self.net(torch.cat([obs, act], dim=-1))

    def fit(
        self, obs: Any, act: Any, next_obs: Any, epochs: int = 50, lr: float = 1e-3, batch_size: int = 64
    ) -> float:
        """Adam on each member's squared error over its own bootstrap resample; the last epoch's mean loss."""
        import torch

        n = len(obs)
        if n == 0 or len(act) != n or len(next_obs) != n:
            raise InputError(
                "DynamicsEnsemble.fit needs equally many (and some) obs, act, next_obs rows",
                item=(n, len(act), len(next_obs)),
            )
        for name, value in (("epochs", epochs), ("batch_size", batch_size)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise InputError(f"DynamicsEnsemble.fit {name} must be a positive integer", item=value)
        if not lr > 0:
            raise InputError("DynamicsEnsemble.fit lr must be positive", item=lr)
        inputs = torch.cat([obs, act], dim=-1)
        targets = next_obs - obs
        resample = torch.randint(0, n, (self.members, n), generator=self.generator)
        optimiser = torch.optim.Adam(self.net.parameters(), lr=lr)
        last = 0.0
        for _ in range(epochs):
            order = torch.randperm(n, generator=self.generator)
            total = 0.0
            for start in range(0, n, batch_size):
                rows = resample[:, order[start : start + batch_size]]
                loss = ((self.net(inputs[rows]) - targets[rows]) ** 2).mean()
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
                total += float(loss.detach()) * rows.shape[1]
            last = total / n
        return last
