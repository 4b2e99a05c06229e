"""DP-SGD (Abadi et al. 2016) for the secret sharer (Carlini et al. 2019; summary sec. 17).

`per_example_gradients` computes one gradient per example with ``torch.func`` (``vmap`` of ``grad``
of a ``functional_call``); `privatize` clips each to L2 norm ``clip`` and adds Gaussian noise of std
``noise_multiplier * clip`` to their sum, then averages over the batch (the DP-SGD gradient);
`dp_step` writes it into ``.grad`` for any optimiser (DP-Adam is post-processing of it). The character
GRU of `robust.analyses.secret_sharer` runs through `functional_gru` (the same equations as
``nn.GRU``, written out so ``vmap`` can batch them). `sampled_gaussian_rdp` is the exact Renyi DP of
the Poisson-subsampled Gaussian at integer orders (Mironov, Talwar & Zhang 2019; the closed form
Opacus' RDP accountant uses for integer orders) and `rdp_epsilon` composes it over the steps and
converts it to (eps, delta). The study shuffles the windows into batches instead of sampling them
with Poisson rate q, so its epsilons are those of the Poisson-sampled algorithm of the same q, as
commonly reported, not a certificate of the shuffled run.

`study` trains the secret sharer's GRU with and without DP-SGD on the same text and canary and
reports the canary's exposure. Paper: DP training removes the canary's exposure (it stays at the
level of a random candidate) while the plain model memorises it. Opacus is not a dependency: the
per-example gradients are checked against a loop over examples, the RDP against quadrature of the
Renyi divergence.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from core.cli import RunOptions
from core.errors import InputError
from core.results import ResultTable

__all__ = [
    "DP_SECRET",
    "dp_step",
    "functional_gru",
    "per_example_gradients",
    "privatize",
    "rdp_epsilon",
    "sampled_gaussian_rdp",
    "study",
]

DP_SECRET = {
    "smoke": {"clip": 1.0, "noise": (0.5, 1.5), "lr": 3e-3, "delta": 1e-5},
    "full": {"clip": 1.0, "noise": (0.3, 0.6, 1.0, 1.5, 3.0), "lr": 3e-3, "delta": 1e-5},
}
"""Per-example clipping norm, noise multipliers sigma, Adam learning rate, delta of the (eps, delta)
estimate; the text, canary, GRU and epochs are the secret sharer's (`secret_sharer.SECRET`)."""


def per_example_gradients(
    model: nn.Module,
    loss_fn: Callable[[nn.Module, dict[str, Tensor], Tensor, Tensor], Tensor],
    inputs: Tensor,
    targets: Tensor,
) -> dict[str, Tensor]:
    """``{name: (n, *param.shape)}``: the gradient of ``loss_fn(model, params, x_i, y_i)`` for each example.

    `loss_fn` receives the parameters as a dict and one example without its batch axis, and returns a
    scalar; use ``torch.func.functional_call(model, params, ...)`` inside it.
    """
    from torch.func import grad, vmap

    params = {k: v.detach() for k, v in model.named_parameters() if v.requires_grad}

    def one(p: dict[str, Tensor], x: Tensor, y: Tensor) -> Tensor:
        return loss_fn(model, p, x, y)

    return vmap(grad(one), in_dims=(None, 0, 0), randomness="different")(params, inputs, targets)


def privatize(
    grads: dict[str, Tensor], clip: float, noise_multiplier: float, generator: torch.Generator | None = None
) -> tuple[dict[str, Tensor], Tensor]:
    """Clip each example's whole gradient to L2 norm ``<= clip``, sum, add N(0, (sigma clip)^2), divide by n.

    Returns the DP gradient per parameter and the ``(n,)`` norms before clipping.
    """
    if not clip > 0 or noise_multiplier < 0:
        raise InputError(
            "DP-SGD needs clip > 0 and noise_multiplier >= 0", item=f"clip={clip}, sigma={noise_multiplier}"
        )
    n = next(iter(grads.values())).shape[0]
    norms = torch.sqrt(sum(g.flatten(1).pow(2).sum(1) for g in grads.values()))
    factor = (clip / (norms + 1e-12)).clamp(max=1.0)
    out = {}
    for name, g in grads.items():
        total = (g * factor.view(-1, *([1] * (g.ndim - 1)))).sum(0)
        noise = torch.randn(total.shape, generator=generator) * (noise_multiplier * clip)
        out[name] = (total + noise) / n
    return out, norms


def dp_step(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    loss_fn: Callable[[nn.Module, dict[str, Tensor], Tensor, Tensor], Tensor],
    inputs: Tensor,
    targets: Tensor,
    *,
    clip: float,
    noise_multiplier: float,
    generator: torch.Generator | None = None,
) -> Tensor:
    """One DP-SGD step: per-example gradients, `privatize`, ``optimizer.step()``; returns the raw norms."""
    grads, norms = privatize(
        per_example_gradients(model, loss_fn, inputs, targets), clip, noise_multiplier, generator
    )
    for name, p in model.named_parameters():
        if name in grads:
            p.grad = grads[name].to(p.dtype)
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    return norms


def sampled_gaussian_rdp(q: float, noise_multiplier: float, orders: np.ndarray) -> np.ndarray:
    """Renyi DP of one step of the Poisson-subsampled Gaussian mechanism at integer ``orders`` >= 2.

    Mironov, Talwar & Zhang (2019), sec. 3.3: ``log A_a / (a - 1)`` with
    ``A_a = sum_k C(a, k) (1 - q)^(a - k) q^k exp((k^2 - k) / (2 sigma^2))`` (sensitivity 1, i.e. the
    clipping norm; the noise std is ``sigma`` times it). At ``q = 1`` this is the Gaussian mechanism's
    ``a / (2 sigma^2)``.
    """
    from scipy.special import gammaln, logsumexp

    orders = np.asarray(orders)
    if not (0 <= q <= 1) or noise_multiplier <= 0 or np.any(orders < 2) or np.any(orders != np.round(orders)):
        raise InputError(
            "sampled_gaussian_rdp needs 0 <= q <= 1, sigma > 0 and integer orders >= 2",
            item=f"q={q}, sigma={noise_multiplier}",
        )
    if q == 0:
        return np.zeros(len(orders))
    if q == 1:
        return orders / (2 * noise_multiplier**2)
    out = []
    for a in orders.astype(int):
        k = np.arange(a + 1)
        log_binom = gammaln(a + 1) - gammaln(k + 1) - gammaln(a - k + 1)
        terms = log_binom + k * np.log(q) + (a - k) * np.log1p(-q) + (k**2 - k) / (2 * noise_multiplier**2)
        out.append(logsumexp(terms) / (a - 1))
    return np.array(out)


RDP_ORDERS = np.arange(2, 257)
"""Integer Renyi orders searched by `rdp_epsilon`."""


def rdp_epsilon(q: float, noise_multiplier: float, steps: int, delta: float) -> float:
    """(eps, delta) of ``steps`` subsampled-Gaussian steps: RDP composed over steps, then converted.

    ``eps = min_a steps RDP(a) + log((a - 1) / a) - (log delta + log a) / (a - 1)`` over `RDP_ORDERS`
    (Balle et al. 2020's conversion, the one Opacus' RDP accountant uses). Assumes Poisson sampling
    with rate ``q``; ``noise_multiplier = 0`` is no privacy (``inf``).
    """
    if noise_multiplier <= 0:
        return float("inf")
    a = RDP_ORDERS.astype(float)
    rdp = steps * sampled_gaussian_rdp(q, noise_multiplier, RDP_ORDERS)
    return float(np.min(rdp + np.log((a - 1) / a) - (np.log(delta) + np.log(a)) / (a - 1)))


def functional_gru(params: dict[str, Tensor], prefix: str, x: Tensor) -> Tensor:
    """``(t, input) -> (t, hidden)``: a one-layer ``nn.GRU`` (batch_first, one sequence) from its parameters."""
    w_ih, w_hh = params[f"{prefix}weight_ih_l0"], params[f"{prefix}weight_hh_l0"]
    b_ih, b_hh = params[f"{prefix}bias_ih_l0"], params[f"{prefix}bias_hh_l0"]
    h = torch.zeros(w_hh.shape[1], dtype=x.dtype)
    gates_x = x @ w_ih.T + b_ih  # (t, 3 hidden): reset, update, new
    out = []
    for t in range(x.shape[0]):
        gh = w_hh @ h + b_hh
        xr, xz, xn = gates_x[t].chunk(3)
        hr, hz, hn = gh.chunk(3)
        r, z = torch.sigmoid(xr + hr), torch.sigmoid(xz + hz)
        n = torch.tanh(xn + r * hn)
        h = (1 - z) * n + z * h
        out.append(h)
    return torch.stack(out)


def _lm_loss(model: nn.Module, params: dict[str, Tensor], seq: Tensor, _target: Tensor) -> Tensor:
    """Next-character cross-entropy of one token window ``(t + 1,)`` under the CharLM's parameters."""
    emb = params["embed.weight"][seq[:-1]]
    hidden = functional_gru(params, "gru.", emb)
    logits = hidden @ params["out.weight"].T + params["out.bias"]
    return nn.functional.cross_entropy(logits, seq[1:])


def study(options: RunOptions) -> list[ResultTable]:
    """Exposure of the canary after plain training and after DP-SGD at each noise multiplier."""
    from core.plots import new_figure, save_figure
    from core.progress import progress
    from robust.analyses import secret_sharer as ss

    budget, dp = ss.SECRET[options.scale], DP_SECRET[options.scale]
    setup = ss.setup(budget, options.seed)
    train, valid = setup["train"], setup["valid"]
    batch = 32
    q = batch / len(train)
    steps = budget["epochs"] * int(np.ceil(len(train) / batch))
    table = ResultTable(
        "secret_sharer_dp",
        title=f"Secret sharer with DP-SGD: exposure of the canary after {budget['epochs']} epochs",
        data=setup["data"],
        notes=(
            f"Same text, canary, GRU (hidden {budget['hidden']}) and epochs as secret_sharer; Adam lr {dp['lr']}, batch "
            f"{batch} of the {len(train)} 64-character windows (an example = one window; the canary's "
            f"{budget['insertions']} copies lie in about twice as many windows, so its protection is group privacy "
            f"over those). DP: per-example clip {dp['clip']}, Gaussian noise sigma x clip on the sum. epsilon: "
            f"RDP accountant (exact subsampled-Gaussian RDP, orders 2-256) at delta {dp['delta']} with q = {q:.3f}, "
            f"{steps} steps, per window (as for Poisson sampling; the run shuffles). Max exposure log2|R| = {np.log2(len(setup['candidates'])):.2f}; a random "
            "candidate's expected exposure is about 1.44 bits. Paper: DP removes the canary's exposure."
        ),
    )
    runs = {"plain (no DP)": None, **{f"DP-SGD sigma {s:g}": s for s in dp["noise"]}}
    curves = {}
    for name, sigma in runs.items():
        torch.manual_seed(options.seed)
        model = ss.CharLM(len(setup["vocab"]), budget["hidden"])
        optimizer = torch.optim.Adam(model.parameters(), lr=dp["lr"])
        generator = torch.Generator().manual_seed(options.seed)
        noise_generator = torch.Generator().manual_seed(options.seed + 1)
        exposures = []
        for _ in progress(range(budget["epochs"]), desc=f"secret sharer, {name}", total=budget["epochs"]):
            model.train()
            for index in torch.randperm(len(train), generator=generator).split(batch):
                seq = train[index]
                if sigma is None:
                    loss = nn.functional.cross_entropy(model(seq[:, :-1]).flatten(0, 1), seq[:, 1:].flatten())
                    optimizer.zero_grad()
                    loss.backward()
                    optimizer.step()
                else:
                    dp_step(
                        model, optimizer, _lm_loss, seq, seq, clip=dp["clip"], noise_multiplier=sigma,
                        generator=noise_generator,
                    )  # fmt: skip
            exposures.append(
                ss.exposure(
                    ss.candidate_perplexities(model, setup["prefix_ids"], setup["candidates"]),
                    setup["secret_index"],
                )
            )
        model.eval()
        with torch.no_grad():
            valid_loss = float(
                nn.functional.cross_entropy(model(valid[:, :-1]).flatten(0, 1), valid[:, 1:].flatten())
            )
        perplexities = ss.candidate_perplexities(model, setup["prefix_ids"], setup["candidates"])
        curves[name] = exposures
        table.add(
            training=name,
            noise_multiplier=0.0 if sigma is None else sigma,
            epsilon=float("inf") if sigma is None else rdp_epsilon(q, sigma, steps, dp["delta"]),
            valid_bits_per_char=valid_loss / np.log(2),
            canary_rank=int(np.sum(perplexities < perplexities[setup["secret_index"]])) + 1,
            exposure_exact=ss.exposure(perplexities, setup["secret_index"]),
            exposure_skewnorm=ss.skew_normal_exposure(
                perplexities[setup["sample"]], perplexities[setup["secret_index"]]
            ),
            max_exposure_over_epochs=float(max(exposures)),
        )
    options.publish(table)
    figure = new_figure(5, 3.6)
    axis = figure.add_subplot(1, 1, 1)
    for name, exposures in curves.items():
        axis.plot(range(1, len(exposures) + 1), exposures, "o-", label=name)
    axis.set(xlabel="epoch", ylabel="exposure (bits, enumeration)", title="secret sharer: plain vs DP-SGD")
    axis.legend(fontsize=7)
    save_figure(figure, Path(options.out) / "secret_sharer_dp.png")
    return [table]
