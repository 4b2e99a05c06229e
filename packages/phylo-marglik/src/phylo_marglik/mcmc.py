"""One batched MCMC kernel for posteriors and power posteriors at every temperature at once.

The state is a (chains, 2n-3) tensor of log branch lengths ``x``. Chain ``b`` targets the
power posterior on the path from a reference ``r`` to the posterior (Fan et al. 2011)::

    log pi_b(x) = beta_b [log L(theta) + log p(theta) - log r(theta)] + log r(theta) + sum(x)

with ``theta = exp(x)`` and ``sum(x)`` the Jacobian. With ``r`` the prior this is the
power posterior of path sampling and stepping stone (Lartillot & Philippe 2006; Xie et al. 2011).

Each iteration applies, to every chain at once, either a *scaler* move (one random branch
multiplied by ``exp(lambda (u - 1/2))``, as in MrBayes) or a block random walk
``x' = x + s L z`` whose covariance ``L L^T`` starts from the supplied (Laplace) covariance and
is learned from the chain's own burn-in (adaptive Metropolis, Haario et al. 2001). Both are
symmetric in ``x``; step sizes adapt to the
acceptance targets during burn-in only, then stay fixed, so the kept samples come from a valid
Markov chain. One likelihood evaluation per chain per iteration.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch

from core.errors import InputError
from core.progress import progress
from phylo_marglik.configs import MCMCConfig
from phylo_marglik.posterior import BranchLengthPosterior, to_branch_lengths

__all__ = [
    "ChainSamples",
    "MCMCConfig",
    "batch_means_ess",
    "conservative_ess",
    "effective_sample_size",
    "power_posterior_mcmc",
]

LogDensity = Callable[[torch.Tensor], torch.Tensor]


@dataclass
class ChainSamples:
    """Kept samples of a batch of chains.

    Attributes:
        x: (S, B, E) log branch lengths.
        log_likelihood: (S, B).
        log_prior: (S, B).
        betas: (B,) temperatures.
        acceptance: (B,) acceptance rate after burn-in (both moves together).
        ess: (B,) effective sample size of each chain's log-likelihood trace.
        evaluations: likelihood evaluations spent (all chains, burn-in included).
        seconds: wall time.
    """

    x: torch.Tensor
    log_likelihood: torch.Tensor
    log_prior: torch.Tensor
    betas: torch.Tensor
    acceptance: torch.Tensor
    ess: torch.Tensor
    evaluations: int
    seconds: float

    @property
    def branch_lengths(self) -> torch.Tensor:
        """(S, B, E) branch lengths."""
        return torch.exp(self.x)


def power_posterior_mcmc(
    posterior: BranchLengthPosterior,
    betas: torch.Tensor,
    config: MCMCConfig,
    generator: torch.Generator,
    *,
    reference_log_prob: LogDensity | None = None,
    start: torch.Tensor | None = None,
    proposal_covariance: torch.Tensor | None = None,
    desc: str = "mcmc",
) -> ChainSamples:
    """Sample all power posteriors (one chain per entry of `betas`) as one batched program.

    Args:
        posterior: the branch-length posterior of one topology.
        betas: (B,) temperatures in [0, 1]; 1 is the posterior.
        config: budget and adaptation settings.
        generator: the source of randomness.
        reference_log_prob: ``(B, E) lengths -> (B,)`` log density of the reference ``r``
            (generalised stepping stone); None means the prior (classic power posterior).
        start: (B, E) initial log branch lengths; default the log prior mean for every branch.
        proposal_covariance: (B, E, E) initial block-move covariance in log space (e.g. from a
            Laplace approximation); default 0.09 I. Adaptation refines it during burn-in.

    Returns:
        `ChainSamples` with ``config.samples`` kept states per chain.
    """
    started = time.perf_counter()
    before = posterior.evaluations
    betas = betas.to(torch.float64)
    if betas.dim() != 1 or ((betas < 0) | (betas > 1)).any():
        raise InputError("temperatures must be a 1-D tensor of values in [0, 1]", item=betas.tolist())
    chains, dim = betas.shape[0], posterior.dim

    def log_target(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        theta = to_branch_lengths(x)
        loglik = posterior.log_likelihood(theta)
        logprior = posterior.log_prior(theta)
        if reference_log_prob is None:
            value = betas * loglik + logprior + x.sum(-1)
        else:
            ref = reference_log_prob(theta)
            value = betas * (loglik + logprior - ref) + ref + x.sum(-1)
        return value, loglik, logprior

    x = (
        start.clone().to(torch.float64)
        if start is not None
        else torch.full((chains, dim), math.log(1.0 / posterior.prior.rate), dtype=torch.float64)
    )
    current, loglik, logprior = log_target(x)
    block_scale = torch.full((chains,), 2.38 / math.sqrt(dim), dtype=torch.float64)
    scaler_width = torch.full((chains,), 2 * math.log(2.0), dtype=torch.float64)
    chol = torch.eye(dim, dtype=torch.float64).expand(chains, dim, dim).clone() * 0.3
    if proposal_covariance is not None:
        factor, info = torch.linalg.cholesky_ex(proposal_covariance.to(torch.float64))
        chol = torch.where((info == 0)[:, None, None], factor, chol)
    mean = x.clone()
    second = torch.zeros(chains, dim, dim, dtype=torch.float64)
    seen = 0
    learned = False
    burn_iters = config.burnin * config.thin
    total = burn_iters + config.iterations
    kept = config.samples
    xs = torch.empty(kept, chains, dim, dtype=torch.float64)
    lls = torch.empty(kept, chains, dtype=torch.float64)
    lps = torch.empty(kept, chains, dtype=torch.float64)
    accepted = torch.zeros(chains, dtype=torch.float64)
    rows = torch.arange(chains)
    for it in progress(range(total), desc=desc):
        adapting = it < burn_iters
        scaler = bool(torch.rand((), generator=generator) < config.scaler_fraction)
        if scaler:
            branch = torch.randint(dim, (chains,), generator=generator)
            u = torch.rand(chains, generator=generator, dtype=torch.float64)
            proposal = x.clone()
            proposal[rows, branch] += scaler_width * (u - 0.5)
        else:
            z = torch.randn(chains, dim, 1, generator=generator, dtype=torch.float64)
            proposal = x + block_scale[:, None] * (chol @ z)[..., 0]
        proposed, p_loglik, p_logprior = log_target(proposal)
        log_ratio = proposed - current
        accept = torch.log(torch.rand(chains, generator=generator, dtype=torch.float64)) < log_ratio
        accept &= torch.isfinite(proposed)
        x = torch.where(accept[:, None], proposal, x)
        current = torch.where(accept, proposed, current)
        loglik = torch.where(accept, p_loglik, loglik)
        logprior = torch.where(accept, p_logprior, logprior)
        if adapting:
            rate = min(0.5, 10.0 / math.sqrt(it + 1))
            prob = torch.exp(log_ratio.clamp(max=0.0)).nan_to_num(0.0)
            if scaler:
                scaler_width *= torch.exp(rate * (prob - config.target_scaler))
                scaler_width.clamp_(1e-4, 20.0)
            else:
                block_scale *= torch.exp(rate * (prob - config.target_block))
                block_scale.clamp_(1e-5, 10.0)
            seen += 1
            delta = x - mean
            mean += delta / seen
            second += delta[:, :, None] * (x - mean)[:, None, :]
            if seen >= 10 * dim and (seen % 50 == 0 or it == burn_iters - 1):
                cov = second / (seen - 1) + 1e-8 * torch.eye(dim, dtype=torch.float64)
                factor, info = torch.linalg.cholesky_ex(cov)
                ok = info == 0
                chol = torch.where(ok[:, None, None], factor, chol)
                if not learned:
                    # First learned covariance: restart from the Gaussian-optimal scale.
                    block_scale = torch.where(
                        ok, torch.full_like(block_scale, 2.38 / math.sqrt(dim)), block_scale
                    )
                    learned = True
        else:
            accepted += accept.to(torch.float64)
            step = it - burn_iters + 1
            if step % config.thin == 0:
                slot = step // config.thin - 1
                xs[slot], lls[slot], lps[slot] = x, loglik, logprior
    return ChainSamples(
        x=xs,
        log_likelihood=lls,
        log_prior=lps,
        betas=betas,
        acceptance=accepted / config.iterations,
        ess=effective_sample_size(lls),
        evaluations=posterior.evaluations - before,
        seconds=time.perf_counter() - started,
    )


def effective_sample_size(trace: torch.Tensor) -> torch.Tensor:
    """ESS of each column of `trace` (S, B) by Geyer's initial monotone sequence, capped at S.

    ``ESS = S / tau`` with ``tau = -1 + 2 sum_m P_m``, ``P_m = rho_{2m} + rho_{2m+1}`` summed while
    positive and made non-increasing (Geyer 1992; the estimator of Stan and ArviZ's
    ``ess(method="mean")`` on one unsplit chain). Stan and ArviZ let an antithetic chain report
    up to ``S log10 S``; here the ESS sets standard errors, and an ESS above S would claim more
    precision than S independent draws, so it is capped at S. A constant column gets ESS = S.
    """
    n = trace.shape[0]
    if n < 4:
        return torch.full(trace.shape[1:], float(n), dtype=torch.float64)
    centred = trace - trace.mean(0)
    size = 1 << (2 * n - 1).bit_length()
    spectrum = torch.fft.rfft(centred.T, n=size)
    acov = torch.fft.irfft(spectrum * spectrum.conj(), n=size)[:, :n] / n  # (B, n)
    var = acov[:, :1]
    rho = torch.where(var > 0, acov / var.clamp_min(1e-300), torch.zeros_like(acov))
    pairs = rho[:, : (n // 2) * 2].reshape(rho.shape[0], -1, 2).sum(-1)  # (B, n//2)
    positive = torch.cumprod((pairs > 0).to(torch.float64), dim=1)
    monotone = torch.cummin(torch.where(positive > 0, pairs, torch.zeros_like(pairs)), dim=1).values
    tau = -1.0 + 2.0 * (monotone * positive).sum(1)
    ess = n / tau.clamp_min(1.0)
    return torch.where(var[:, 0] > 0, ess, torch.full_like(ess, float(n)))


def batch_means_ess(trace: torch.Tensor, batches: int | None = None) -> torch.Tensor:
    """ESS of each column of `trace` (S, B) by non-overlapping batch means, capped at S.

    With ``a`` batches of ``m = S // a`` draws, ``ESS = S var(x) / (m var(batch means))``
    (Flegal & Jones 2010); ``a = floor(sqrt(S))`` by default. Fewer than 4 draws give ESS = S.
    """
    n = trace.shape[0]
    a = batches if batches is not None else math.isqrt(n)
    if n < 4 or a < 2:
        return torch.full(trace.shape[1:], float(n), dtype=torch.float64)
    m = n // a
    means = trace[: a * m].reshape(a, m, *trace.shape[1:]).mean(1)
    var = trace.var(0)
    batch_var = means.var(0)
    ess = n * var / (m * batch_var).clamp_min(1e-300)
    return torch.where(var > 0, ess.clamp(max=float(n)), torch.full_like(var, float(n)))


def conservative_ess(trace: torch.Tensor) -> torch.Tensor:
    """The smaller of `effective_sample_size` and `batch_means_ess` per column, at least 2.

    On short chains (a few hundred draws, ESS < 20) the autocorrelation sum is cut early and
    overstates the ESS; batch means sees slow drifts it misses. Standard errors here use the
    smaller of the two (see tests/phylo_marglik/test_standard_errors.py for the check against the
    spread of independent replicates).
    """
    return torch.minimum(effective_sample_size(trace), batch_means_ess(trace)).clamp_min(2.0)
