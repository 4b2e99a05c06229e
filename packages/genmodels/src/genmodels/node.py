"""Neural ODEs (Chen et al. 2018) through torchdiffeq: the solver wrapper, the ODE-Net classifier and its
equal-depth ResNet, and a continuous normalising flow with FFJORD's Hutchinson trace estimator.

- `solve`: ``y(t)`` of ``dy/dt = f(t, y)`` by torchdiffeq's adaptive solvers (dopri5 by default),
  optionally by the adjoint method (gradients by a second, backward ODE: O(1) memory); it counts
  the number of function evaluations (NFE) of `f`.
- `ODENet`: downsampling convolutions, one ODE block ``dh/dt = f(t, h)`` on ``t in [0, 1]`` (two
  convolutions with t as an extra channel, group norm), pooling and a linear head (the paper's
  MNIST ODE-Net, smaller); `ResNet` replaces the ODE block by `depth` residual blocks of the same
  form (``h + f(h)``), so it has `depth` times the block's parameters.
- `CNF`: ``dz/dt = f(t, z)`` by an MLP; ``log p(x) = log N(z(0)) - int_0^1 tr(df/dz) dt`` with the
  trace exact (autograd, per dimension) or estimated by ``eps' (df/dz) eps``, eps Gaussian
  (Hutchinson; FFJORD, Grathwohl et al. 2019), unbiased.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from core.errors import InputError

__all__ = [
    "CNF",
    "ODENet",
    "ResNet",
    "build_classifier",
    "fit_cnf",
    "fit_ode_classifier",
    "hutchinson_trace",
    "solve",
]


class _Counted(nn.Module):
    def __init__(self, func) -> None:
        super().__init__()
        self.func = func
        self.nfe = 0

    def forward(self, t: Tensor, y: Tensor) -> Tensor:
        self.nfe += 1
        return self.func(t, y)


def solve(
    func,
    y0: Tensor,
    t: Tensor,
    *,
    rtol: float = 1e-3,
    atol: float = 1e-3,
    method: str = "dopri5",
    adjoint: bool = False,
) -> tuple[Tensor, int]:
    """``(y at each time in t (len(t), *y0.shape), number of forward evaluations of func)``.

    Args:
        func: ``f(t, y)``; an `nn.Module` when ``adjoint=True`` (its parameters get the adjoint gradients).
        t: increasing or decreasing 1-D times, ``t[0]`` the time of `y0`.

    Raises:
        InputError: `t` not 1-D with at least 2 distinct times.
    """
    import torchdiffeq

    if t.dim() != 1 or len(t) < 2:
        raise InputError("solve needs a 1-D tensor of at least 2 times", item=tuple(t.shape))
    counted = _Counted(func)
    if adjoint:
        if not isinstance(func, nn.Module):
            raise InputError("the adjoint method needs func to be an nn.Module", item=type(func).__name__)
        y = torchdiffeq.odeint_adjoint(counted, y0, t, rtol=rtol, atol=atol, method=method)
    else:
        y = torchdiffeq.odeint(counted, y0, t, rtol=rtol, atol=atol, method=method)
    return y, counted.nfe


class _ConvDynamics(nn.Module):
    """``f(t, h)``: group norm, ReLU, 3x3 conv on [h, t], twice (the paper's ODE-Net block)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.norm1 = nn.GroupNorm(min(8, channels), channels)
        self.conv1 = nn.Conv2d(channels + 1, channels, 3, 1, 1)
        self.norm2 = nn.GroupNorm(min(8, channels), channels)
        self.conv2 = nn.Conv2d(channels + 1, channels, 3, 1, 1)

    def _with_time(self, t: Tensor, h: Tensor) -> Tensor:
        return torch.cat([h, t.expand(h.shape[0], 1, *h.shape[2:]).to(h)], 1)

    def forward(self, t: Tensor, h: Tensor) -> Tensor:
        h = self.conv1(self._with_time(t, torch.relu(self.norm1(h))))
        return self.conv2(self._with_time(t, torch.relu(self.norm2(h))))


def _stem(in_channels: int, channels: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, channels, 3, 1, 1), nn.ReLU(), nn.Conv2d(channels, channels, 4, 2, 1)
    )


def _head(channels: int, classes: int) -> nn.Sequential:
    return nn.Sequential(
        nn.GroupNorm(min(8, channels), channels),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(channels, classes),
    )


class ODENet(nn.Module):
    """Image classifier with one ODE block; `tolerance` (rtol = atol) and `adjoint` set how it is solved.

    `last_nfe` holds the forward NFE of the last call.
    """

    def __init__(
        self,
        in_channels: int,
        classes: int,
        channels: int = 32,
        tolerance: float = 1e-3,
        adjoint: bool = False,
    ) -> None:
        super().__init__()
        self.stem, self.dynamics, self.head = (
            _stem(in_channels, channels),
            _ConvDynamics(channels),
            _head(channels, classes),
        )
        self.tolerance, self.adjoint = tolerance, adjoint
        self.last_nfe = 0

    def forward(self, x: Tensor) -> Tensor:
        h = self.stem(x)
        t = torch.tensor([0.0, 1.0], dtype=h.dtype)
        path, self.last_nfe = solve(
            self.dynamics, h, t, rtol=self.tolerance, atol=self.tolerance, adjoint=self.adjoint
        )
        return self.head(path[-1])


class ResNet(nn.Module):
    """The same classifier with `depth` residual blocks ``h + f(h)`` (each its own `_ConvDynamics`, t = 0)."""

    def __init__(self, in_channels: int, classes: int, channels: int = 32, depth: int = 6) -> None:
        super().__init__()
        self.stem, self.head = _stem(in_channels, channels), _head(channels, classes)
        self.blocks = nn.ModuleList([_ConvDynamics(channels) for _ in range(depth)])

    def forward(self, x: Tensor) -> Tensor:
        h = self.stem(x)
        zero = torch.zeros(1, dtype=h.dtype)
        for block in self.blocks:
            h = h + block(zero, h)
        return self.head(h)


def hutchinson_trace(output: Tensor, z: Tensor, eps: Tensor) -> Tensor:
    """``eps' (d output / d z) eps`` per row, ``(b,)``: an unbiased estimate of the Jacobian's trace when
    ``E[eps eps'] = I``; `output` must be computed from `z` with the graph kept (``create_graph``)."""
    (vjp,) = torch.autograd.grad(output, z, eps, create_graph=True)
    return (vjp * eps).sum(1)


def _exact_trace(output: Tensor, z: Tensor) -> Tensor:
    total = torch.zeros(z.shape[0], dtype=z.dtype)
    for i in range(z.shape[1]):
        (row,) = torch.autograd.grad(output[:, i].sum(), z, create_graph=True)
        total = total + row[:, i]
    return total


class _MLPDynamics(nn.Module):
    def __init__(self, dims: int, hidden: int) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(dims + 1, hidden),
            nn.Tanh(),
            nn.Linear(hidden, hidden),
            nn.Tanh(),
            nn.Linear(hidden, dims),
        )

    def forward(self, t: Tensor, z: Tensor) -> Tensor:
        return self.net(torch.cat([z, t.expand(z.shape[0], 1).to(z)], 1))


class CNF(nn.Module):
    """A continuous normalising flow on ``(b, dims)`` points with a standard normal base at t = 0.

    Args:
        dynamics: ``f(t, z)`` (an `nn.Module`); default an MLP of `hidden` tanh units with t as an input.
    """

    def __init__(self, dims: int = 2, hidden: int = 64, dynamics: nn.Module | None = None) -> None:
        super().__init__()
        self.dims = dims
        self.dynamics = dynamics if dynamics is not None else _MLPDynamics(dims, hidden)
        self.last_nfe = 0

    def log_prob(
        self,
        x: Tensor,
        *,
        estimator: str = "hutchinson",
        generator: torch.Generator | None = None,
        tolerance: float = 1e-5,
    ) -> Tensor:
        """``log p(x)`` ``(b,)`` nats, by integrating ``[z, a]`` from t = 1 (z = x, a = 0) back to t = 0 with
        ``da/dt = tr(df/dz)``: ``log p(x) = log N(z(0)) + a(0)``. `estimator`: "hutchinson" (one Gaussian
        eps per point, fixed over the solve, as FFJORD) or "exact".

        Raises:
            InputError: `x` not ``(b, dims)`` or an unknown estimator.
        """
        if x.dim() != 2 or x.shape[1] != self.dims:
            raise InputError(f"CNF takes (batch, {self.dims}) points", item=tuple(x.shape))
        if estimator not in ("hutchinson", "exact"):
            raise InputError("unknown trace estimator", item=estimator, expected="hutchinson or exact")
        eps = torch.randn(x.shape, generator=generator, dtype=x.dtype) if estimator == "hutchinson" else None

        def augmented(t: Tensor, state: Tensor) -> Tensor:
            with torch.enable_grad():
                z = state[:, : self.dims]
                if not z.requires_grad:
                    z = z.requires_grad_(True)
                dz = self.dynamics(t, z)
                trace = _exact_trace(dz, z) if eps is None else hutchinson_trace(dz, z, eps)
            return torch.cat([dz, trace[:, None]], 1)

        start = torch.cat([x, torch.zeros(x.shape[0], 1, dtype=x.dtype)], 1)
        t = torch.tensor([1.0, 0.0], dtype=x.dtype)
        path, self.last_nfe = solve(augmented, start, t, rtol=tolerance, atol=tolerance)
        end = path[-1]
        z0, a0 = end[:, : self.dims], end[:, self.dims]
        base = -0.5 * (z0.pow(2).sum(1) + self.dims * math.log(2 * math.pi))
        return base + a0

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator, tolerance: float = 1e-5) -> Tensor:
        """`n` points: ``z(0) ~ N(0, I)`` pushed to t = 1."""
        z0 = torch.randn(n, self.dims, generator=generator)
        path, _ = solve(self.dynamics, z0, torch.tensor([0.0, 1.0]), rtol=tolerance, atol=tolerance)
        return path[-1]


def build_classifier(config, in_channels: int) -> nn.Module:
    """The `ODENet` or `ResNet` of an `ODENetRunConfig` (initial weights from the global RNG: fork it)."""
    if config.model == "odenet":
        return ODENet(in_channels, config.classes, config.channels, config.tolerance, config.adjoint)
    return ResNet(in_channels, config.classes, config.channels, config.depth)


def fit_ode_classifier(images: Tensor, labels: Tensor, config, *, checkpoint=None, on_epoch=None):
    """Train the classifier of `config` (an `ODENetRunConfig`) on ``images (n, c, h, w)``, ``labels (n,)``
    through the shared resumable loop; returns ``(model, history)`` (history rows carry the mean forward NFE)."""
    from genmodels.config import ODENetRunConfig
    from genmodels.train import run_epochs

    if images.dim() != 4 or labels.shape != (len(images),):
        raise InputError(
            "images (n, c, h, w) and labels (n,) expected", item=(tuple(images.shape), tuple(labels.shape))
        )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.train.seed)
        model = build_classifier(config, images.shape[1])
    optimizer = torch.optim.Adam(model.parameters(), lr=config.train.learning_rate)

    def step(index: Tensor, generator: torch.Generator, global_step: int) -> dict[str, float]:
        model.train()
        loss = nn.functional.cross_entropy(model(images[index]), labels[index])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return {"loss": float(loss.detach()), "nfe": float(getattr(model, "last_nfe", 0))}

    history = run_epochs(
        desc=config.model,
        train=config.train,
        run_config=config,
        run_type=ODENetRunConfig,
        size=len(images),
        step=step,
        stateful={"model": model, "optimizer": optimizer},
        generator=torch.Generator().manual_seed(config.train.seed),
        checkpoint=checkpoint,
        on_epoch=on_epoch,
    )
    return model.eval(), history


def fit_cnf(points: Tensor, config, *, checkpoint=None, on_epoch=None):
    """Train a `CNF` of a `CNFRunConfig` on ``points (n, dims)`` by maximum likelihood through the shared loop."""
    from genmodels.config import CNFRunConfig
    from genmodels.train import run_epochs

    if points.dim() != 2 or points.shape[1] != config.dims:
        raise InputError(f"points must be (n, {config.dims})", item=tuple(points.shape))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.train.seed)
        model = CNF(config.dims, config.hidden)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.train.learning_rate)

    def step(index: Tensor, generator: torch.Generator, global_step: int) -> dict[str, float]:
        model.train()
        log_p = model.log_prob(
            points[index], estimator=config.estimator, generator=generator, tolerance=config.tolerance
        )
        loss = -log_p.mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return {"nll": float(loss.detach()), "nfe": float(model.last_nfe)}

    history = run_epochs(
        desc="CNF",
        train=config.train,
        run_config=config,
        run_type=CNFRunConfig,
        size=len(points),
        step=step,
        stateful={"model": model, "optimizer": optimizer},
        generator=torch.Generator().manual_seed(config.train.seed),
        checkpoint=checkpoint,
        on_epoch=on_epoch,
    )
    return model.eval(), history
