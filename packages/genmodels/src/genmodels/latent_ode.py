"""The latent ODE for irregularly sampled time series (Chen et al. 2018, sec. 5) and its RNN baseline.

- `LatentODE`: a GRU run **backwards** over a sequence's observations ``(x_i, t_i)`` (the time
  as an input, so irregular spacing is seen) gives ``q(z0 | x) = N(mu, diag(sigma^2))``; ``z(t)``
  solves ``dz/dt = f(z)`` (an autonomous MLP, ELU, through `genmodels.node.solve`: torchdiffeq,
  dopri5) from ``z0`` at t = 0; a decoder maps ``z(t_i)`` to the mean of ``p(x_i | z(t_i)) =
  N(dec(z(t_i)), obs_noise^2 I)``. Training maximises the ELBO
  ``sum_i log p(x_i | z(t_i)) - KL(q(z0 | x) || N(0, I))`` with one reparameterised z0 per sequence.
  Any time can be queried afterwards: interpolation and extrapolation are the same solve.
- `RNNBaseline`: a GRU reading ``(x_i, t_i - t_{i-1})`` forwards, with a head that predicts the
  observation a given time gap after the last one read; trained on the next observation (teacher
  forcing) under the same Gaussian likelihood; it extrapolates by feeding its predictions back.
- `fit_sequence_model`: either, through the shared resumable loop (`genmodels.train.run_epochs`);
  `prediction_errors`: interpolation / extrapolation RMSE against the noise-free spirals.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor, nn

from core.errors import InputError
from genmodels.config import LatentODERunConfig
from genmodels.distributions import gaussian_kl_between, gaussian_log_density, reparameterise
from genmodels.node import solve

__all__ = [
    "LatentODE",
    "LatentODERunConfig",
    "RNNBaseline",
    "build_sequence_model",
    "check_sequences",
    "fit_sequence_model",
    "prediction_errors",
]


def check_sequences(values: Tensor, times: Tensor, obs_dim: int) -> None:
    """Raise `InputError` unless ``values (n, k, obs_dim)`` and ``times (n, k)`` are finite, times >= 0 and rising."""
    if values.dim() != 3 or values.shape[-1] != obs_dim or times.shape != values.shape[:2]:
        raise InputError(
            f"sequences must be values (n, k, {obs_dim}) with times (n, k)",
            item=f"values {tuple(values.shape)}, times {tuple(times.shape)}",
        )
    if values.shape[1] < 1 or not (torch.isfinite(values).all() and torch.isfinite(times).all()):
        raise InputError("sequences need >= 1 finite observation each", item=tuple(values.shape))
    if (times < 0).any() or (times.diff(dim=1) <= 0).any():
        raise InputError("each sequence's times must be >= 0 and strictly increasing", item="times")


class _Dynamics(nn.Module):
    """``f(t, z)``: two ELU layers of `hidden` units, autonomous (t unused), as torchdiffeq's example."""

    def __init__(self, latent_dim: int, hidden: int) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(latent_dim, hidden),
            nn.ELU(),
            nn.Linear(hidden, hidden),
            nn.ELU(),
            nn.Linear(hidden, latent_dim),
        )

    def forward(self, t: Tensor, z: Tensor) -> Tensor:
        return self.net(z)


class LatentODE(nn.Module):
    """Encoder GRU (backwards) -> q(z0), ODE in z, MLP decoder; `last_nfe` is the last solve's evaluations."""

    def __init__(self, config: LatentODERunConfig) -> None:
        super().__init__()
        self.config = config
        self.encoder = nn.GRUCell(config.obs_dim + 1, config.rnn_hidden)
        self.to_posterior = nn.Linear(config.rnn_hidden, 2 * config.latent_dim)
        self.dynamics = _Dynamics(config.latent_dim, config.hidden)
        self.decoder = nn.Sequential(
            nn.Linear(config.latent_dim, config.hidden), nn.ReLU(), nn.Linear(config.hidden, config.obs_dim)
        )
        self.last_nfe = 0

    def posterior(self, values: Tensor, times: Tensor) -> tuple[Tensor, Tensor]:
        """``(mean, log_var)`` of q(z0), each ``(n, latent_dim)``: the GRU reads ``[x_i, t_i]`` from i = k-1 down to 0."""
        h = values.new_zeros(values.shape[0], self.config.rnn_hidden)
        for i in reversed(range(values.shape[1])):
            h = self.encoder(torch.cat([values[:, i], times[:, i, None]], 1), h)
        mean, log_var = self.to_posterior(h).chunk(2, -1)
        return mean, log_var

    def trajectory(self, z0: Tensor, grid: Tensor) -> Tensor:
        """``z(t)`` ``(n, len(grid), latent_dim)`` from ``z(0) = z0`` at the increasing times `grid` (>= 0)."""
        start = grid[:1] > 0
        full = torch.cat([grid.new_zeros(1), grid]) if bool(start) else grid
        if len(full) == 1:  # only t = 0 asked
            return z0[:, None]
        c = self.config
        path, self.last_nfe = solve(
            self.dynamics, z0, full, rtol=c.tolerance, atol=c.tolerance, adjoint=c.adjoint
        )
        path = path.transpose(0, 1)
        return path[:, 1:] if bool(start) else path

    def _at_times(self, z0: Tensor, times: Tensor) -> Tensor:
        grid, inverse = torch.unique(times, sorted=True, return_inverse=True)
        path = self.trajectory(z0, grid)
        return path.gather(1, inverse[..., None].expand(-1, -1, path.shape[-1]))

    def elbo(
        self, values: Tensor, times: Tensor, generator: torch.Generator | None = None
    ) -> dict[str, Tensor]:
        """``{"elbo", "log_px", "kl"}``, each ``(n,)`` nats per sequence, with one reparameterised z0 per sequence.

        The solve runs once on the union of the batch's times; ``log_px`` sums ``log N(x_i; dec(z(t_i)),
        obs_noise^2 I)`` over the observations, ``kl`` is ``KL(q(z0 | x) || N(0, I))`` in closed form.
        """
        check_sequences(values, times, self.config.obs_dim)
        mean, log_var = self.posterior(values, times)
        z0 = reparameterise(mean, log_var, generator)
        x_hat = self.decoder(self._at_times(z0, times))
        noise_log_var = torch.full_like(x_hat, 2 * math.log(self.config.obs_noise))
        log_px = gaussian_log_density(values, x_hat, noise_log_var).sum(1)
        kl = gaussian_kl_between(mean, log_var, torch.zeros_like(mean), torch.zeros_like(log_var))
        return {"elbo": log_px - kl, "log_px": log_px, "kl": kl}

    def loss(self, values: Tensor, times: Tensor, generator: torch.Generator | None) -> tuple[Tensor, dict]:
        """``(-mean ELBO, metrics)``: the training objective per sequence."""
        terms = self.elbo(values, times, generator)
        metrics = {k: float(v.detach().mean()) for k, v in terms.items()}
        return -terms["elbo"].mean(), {**metrics, "nfe": float(self.last_nfe)}

    @torch.no_grad()
    def predict(self, values: Tensor, times: Tensor, query: Tensor) -> Tensor:
        """Decoded positions ``(n, q, obs_dim)`` at the increasing times `query` ``(q,)``, from q(z0)'s mean."""
        check_sequences(values, times, self.config.obs_dim)
        mean, _ = self.posterior(values, times)
        return self.decoder(self.trajectory(mean, query))


class RNNBaseline(nn.Module):
    """A GRU over ``[x_i, t_i - t_{i-1}]`` (t_{-1} = 0) and a head ``(h, gap) -> x`` a gap after the last read."""

    def __init__(self, config: LatentODERunConfig) -> None:
        super().__init__()
        self.config = config
        self.cell = nn.GRUCell(config.obs_dim + 1, config.rnn_hidden)
        self.head = nn.Sequential(
            nn.Linear(config.rnn_hidden + 1, config.hidden),
            nn.ReLU(),
            nn.Linear(config.hidden, config.obs_dim),
        )

    @staticmethod
    def _gaps(times: Tensor) -> Tensor:
        return torch.diff(times, dim=1, prepend=times.new_zeros(times.shape[0], 1))

    def states(self, values: Tensor, times: Tensor) -> Tensor:
        """``(n, k + 1, rnn_hidden)``: the state before any observation, then after each."""
        h = values.new_zeros(values.shape[0], self.config.rnn_hidden)
        gaps, states = self._gaps(times), [h]
        for i in range(values.shape[1]):
            h = self.cell(torch.cat([values[:, i], gaps[:, i, None]], 1), h)
            states.append(h)
        return torch.stack(states, 1)

    def loss(
        self, values: Tensor, times: Tensor, generator: torch.Generator | None = None
    ) -> tuple[Tensor, dict]:
        """``(mean negative log-likelihood per sequence, metrics)``: each x_i predicted from the state before it."""
        check_sequences(values, times, self.config.obs_dim)
        states = self.states(values, times)[:, :-1]
        x_hat = self.head(torch.cat([states, self._gaps(times)[..., None]], -1))
        log_var = torch.full_like(x_hat, 2 * math.log(self.config.obs_noise))
        nll = -gaussian_log_density(values, x_hat, log_var).sum(1)
        return nll.mean(), {"nll": float(nll.detach().mean())}

    @torch.no_grad()
    def predict(self, values: Tensor, times: Tensor, query: Tensor) -> Tensor:
        """Positions ``(n, q, obs_dim)`` at the increasing times `query`: from the state after the last
        observation before each query time (interpolation), and past a sequence's last observation by
        feeding the predictions back in (extrapolation)."""
        check_sequences(values, times, self.config.obs_dim)
        states = self.states(values, times)
        last = times[:, -1]
        h, previous, rows, out = states[:, -1], last.clone(), torch.arange(len(values)), []
        for q in query.tolist():
            before = (times < q).sum(1)  # observations strictly before q
            t_before = torch.where(before > 0, times.gather(1, (before - 1).clamp(min=0)[:, None])[:, 0], 0.0)
            inside = self.head(torch.cat([states[rows, before], (q - t_before)[:, None]], 1))
            gap = (q - previous)[:, None]
            ahead = self.head(torch.cat([h, gap], 1))
            beyond = (q > last)[:, None]
            out.append(torch.where(beyond, ahead, inside))
            h = torch.where(beyond, self.cell(torch.cat([ahead, gap], 1), h), h)
            previous = torch.where(beyond[:, 0], torch.full_like(previous, q), previous)
        return torch.stack(out, 1)


def build_sequence_model(config: LatentODERunConfig) -> nn.Module:
    """The `LatentODE` or `RNNBaseline` of `config` (initial weights from torch's global RNG: fork it)."""
    return LatentODE(config) if config.model == "latent-ode" else RNNBaseline(config)


def fit_sequence_model(
    values: Tensor, times: Tensor, config: LatentODERunConfig, *, checkpoint=None, on_epoch=None
):
    """Train the model of `config` on ``values (n, k, obs_dim)`` observed at ``times (n, k)`` through the shared
    resumable loop; returns ``(model, history)`` (rows: -ELBO and its terms and the NFE, or the RNN's NLL).

    Raises:
        InputError: bad shapes or times (`check_sequences`).
    """
    from genmodels.train import run_epochs

    check_sequences(values, times, config.obs_dim)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.train.seed)
        model = build_sequence_model(config)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.train.learning_rate)
    batch = min(config.train.batch_size, len(values))
    train = config.train if batch == config.train.batch_size else _with_batch(config.train, batch)

    def step(index: Tensor, generator: torch.Generator, global_step: int) -> dict[str, float]:
        model.train()
        loss, metrics = model.loss(values[index], times[index], generator)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return {"loss": float(loss.detach()), **metrics}

    history = run_epochs(
        desc=config.model,
        train=train,
        run_config=config,
        run_type=LatentODERunConfig,
        size=len(values),
        step=step,
        stateful={"model": model, "optimizer": optimizer},
        generator=torch.Generator().manual_seed(config.train.seed),
        checkpoint=checkpoint,
        on_epoch=on_epoch,
    )
    return model.eval(), history


def _with_batch(train, batch: int):
    from dataclasses import replace

    return replace(train, batch_size=batch)


def prediction_errors(model: nn.Module, spirals) -> dict[str, float]:
    """RMSE (per coordinate, against the noise-free positions) of `model`'s predictions for `spirals` (a `Spirals`):
    ``interpolation`` at the window's unobserved grid points between the first and last observation (nan when
    there are none), ``extrapolation``
    on the grid after the window, ``reconstruction`` at the observed points."""
    values, times = (torch.from_numpy(a) for a in spirals.observations())
    grid = torch.from_numpy(spirals.times.astype(np.float32))
    predicted = model.predict(values, times, grid).double().numpy()
    squared = ((predicted - spirals.truth) ** 2).mean(-1)  # (n, grid)
    window = spirals.config.samples
    hidden = spirals.between_observations()
    rows = np.arange(len(spirals))[:, None]
    return {
        "interpolation": float(np.sqrt(squared[:, :window][hidden].mean())) if hidden.any() else float("nan"),
        "extrapolation": float(np.sqrt(squared[:, window:].mean()))
        if squared.shape[1] > window
        else float("nan"),
        "reconstruction": float(np.sqrt(squared[rows, spirals.observed].mean())),
    }
