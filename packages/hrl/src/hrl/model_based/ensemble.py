"""MB-MPO's dynamics ensemble: K MLPs predicting the state change s' - s from (s, a), each fitted on
its own bootstrap resample of the real transitions (one `hrl.networks.EnsembleMLP`, one batched matmul
per layer). Each member is one of MB-MPO's tasks. Inputs and state changes are standardised with the
data's mean and sd (recomputed at every `fit`), as in Clavera et al.'s code, unless ``normalize=False``."""

from __future__ import annotations

from typing import Any

from core.errors import InputError

__all__ = ["DynamicsEnsemble"]


def _spread(x: Any) -> Any:
    """Per-column sd of x (n, d), at least 1e-6 (1 for a single row)."""
    import torch

    return x.std(0).clamp_min(1e-6) if len(x) > 1 else torch.ones(x.shape[1], dtype=x.dtype)


class DynamicsEnsemble:
    """K dynamics models ``f_k(s, a) = s + g_k([s, a])``.

    Args:
        obs_dim, act_dim: state and action sizes.
        members: K (>= 1).
        hidden: hidden widths (``()``: linear models).
        seed: initial weights and bootstrap draws.
        normalize: standardise the inputs [s, a] and the targets s' - s by the fitted data's
            mean and sd (the net then predicts standardised changes).
    """

    def __init__(
        self,
        obs_dim: int,
        act_dim: int,
        members: int = 5,
        hidden: tuple[int, ...] = (512, 512),
        seed: int = 0,
        normalize: bool = True,
    ):
        import torch

        from hrl.networks import EnsembleMLP

        if not isinstance(members, int) or members < 1:
            raise InputError("DynamicsEnsemble.members must be an integer >= 1", item=members)
        self.obs_dim, self.act_dim, self.members, self.normalize = obs_dim, act_dim, members, normalize
        self.in_mean, self.in_std = torch.zeros(obs_dim + act_dim), torch.ones(obs_dim + act_dim)
        self.out_mean, self.out_std = torch.zeros(obs_dim), torch.ones(obs_dim)
        self.generator = torch.Generator().manual_seed(seed)
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            self.net = EnsembleMLP(members, obs_dim + act_dim, hidden, obs_dim)

    def predict(self, obs: Any, act: Any) -> Any:
        """Next states (members, B, obs_dim) of every member for obs, act (B, dim) (the same batch for
        every member) or (members, B, dim) (member k's own batch)."""
        import torch

        inputs = (torch.cat([obs, act], dim=-1) - self.in_mean) / self.in_std
        return obs + self.net(inputs) * self.out_std + self.out_mean

    def fit(
        self, obs: Any, act: Any, next_obs: Any, epochs: int = 50, lr: float = 1e-3, batch_size: int = 64
    ) -> float:
        """Adam on each member's squared error over its own bootstrap resample (the weights carry on from
        the previous fit); the last epoch's mean loss (in standardised units when normalising)."""
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
        if self.normalize:
            self.in_mean, self.in_std = inputs.mean(0), _spread(inputs)
            self.out_mean, self.out_std = targets.mean(0), _spread(targets)
            inputs = (inputs - self.in_mean) / self.in_std
            targets = (targets - self.out_mean) / self.out_std
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
