"""Nested sampling (Skilling 2006) with live points drawn from the prior.

Each iteration removes the ``k`` live points of lowest likelihood (classic NS: k = 1). The j-th
lowest of N points sits at expected prior mass ``log X = log X_prev - sum_{m<j} 1/(N - m)``
(order statistics of uniforms), and contributes ``L_j (X_{j-1} - X_j)`` to Z. Replacements start
at copies of random surviving points and take ``ns_steps`` random-walk Metropolis steps in log
branch lengths that target the prior restricted to ``L > L_min``; all k walks run as one batch.
Stops when the live points can add less than ``ns_tolerance`` of Z, then adds them;
the standard error is Skilling's ``sqrt(H / N_eff)`` with H the information (nats) and
``N_eff`` the live points counted by how far the replacement walks moved from their starting copies
(``N`` when they are independent draws; see the code), with a warning below ``config.min_ess``.
"""

from __future__ import annotations

import math

import torch

from phylo_marglik.estimators.base import EstimatorContext, register
from phylo_marglik.posterior import to_branch_lengths


@register(
    "ns", "nested sampling with 50 live points and constrained random-walk replacements (Skilling 2006)"
)
def nested_sampling(ctx: EstimatorContext) -> tuple[float, float, dict[str, float]]:
    cfg = ctx.config
    posterior = ctx.posterior
    rate = posterior.prior.rate
    n_live, k = cfg.live_points, cfg.ns_replace
    gen = ctx.generator

    def log_prior_x(x: torch.Tensor) -> torch.Tensor:  # density of log lengths under the prior
        return (x - rate * torch.exp(x)).sum(-1)

    with torch.no_grad():
        live_x = torch.log(posterior.prior.sample((n_live, posterior.dim), gen))
        live_l = posterior.log_likelihood(to_branch_lengths(live_x))
        log_x = 0.0
        dead_logl: list[torch.Tensor] = []
        dead_logw: list[torch.Tensor] = []
        log_z = -math.inf
        accepted = proposed = 0
        scale = 0.5
        iterations = 0
        moved, walks = 0.0, 0
        shrink = torch.cumsum(1.0 / (n_live - torch.arange(k, dtype=torch.float64)), 0)  # (k,)
        while iterations < cfg.ns_max_iterations:
            iterations += 1
            order = torch.argsort(live_l)
            worst = order[:k]
            log_xs = log_x - shrink
            edges = torch.cat([torch.tensor([log_x], dtype=torch.float64), log_xs])
            log_widths = edges[:-1] + torch.log(-torch.expm1(edges[1:] - edges[:-1]))
            contributions = live_l[worst] + log_widths
            dead_logl.append(live_l[worst].clone())
            dead_logw.append(log_widths)
            log_z = float(torch.logaddexp(torch.tensor(log_z), torch.logsumexp(contributions, 0)))
            log_x = float(log_xs[-1])
            threshold = live_l[worst].max()
            survivors = order[k:]
            pick = survivors[torch.randint(len(survivors), (k,), generator=gen)]
            x = live_x[pick].clone()
            start = x.clone()
            lx = live_l[pick].clone()
            spread = live_x[survivors].std(0).clamp_min(1e-3)
            step_accepted = 0
            for _ in range(cfg.ns_steps):
                prop = x + scale * spread * torch.randn(x.shape, generator=gen, dtype=torch.float64)
                log_ratio = log_prior_x(prop) - log_prior_x(x)
                ok = torch.log(torch.rand(k, generator=gen, dtype=torch.float64)) < log_ratio
                prop_l = posterior.log_likelihood(to_branch_lengths(prop))
                ok &= prop_l > threshold
                x = torch.where(ok[:, None], prop, x)
                lx = torch.where(ok, prop_l, lx)
                step_accepted += int(ok.sum())
            accepted += step_accepted
            proposed += k * cfg.ns_steps
            # keep the walk's acceptance near 30% as the constrained region shrinks
            scale = min(5.0, scale * math.exp(step_accepted / (k * cfg.ns_steps) - 0.3))
            # decorrelation of the walk: E|x - x0|^2 is 2 tr(Cov) for independent draws
            independent = 2.0 * float(live_x[survivors].var(0).sum())
            if independent > 0:
                moved += float(((x - start) ** 2).sum(-1).mean()) / independent
                walks += 1
            live_x[worst], live_l[worst] = x, lx
            remaining = float(torch.logsumexp(live_l, 0)) - math.log(n_live) + log_x
            if remaining - log_z < math.log(cfg.ns_tolerance):
                break
        final_w = torch.full((n_live,), log_x - math.log(n_live), dtype=torch.float64)
        all_l = torch.cat([*dead_logl, live_l])
        all_w = torch.cat([*dead_logw, final_w])
        log_z = float(torch.logsumexp(all_l + all_w, 0))
        post_w = torch.exp(all_l + all_w - log_z)
        information = float((post_w * (all_l - log_z)).sum())
    # A replacement that is a correlated copy of a survivor adds less than one independent live
    # point. With d = mean |x - x0|^2 / (2 tr Cov) (1 for independent draws, 1 - rho for an AR(1)
    # step of correlation rho), the effective number of live points is N (1 - rho) / (1 + rho).
    decorrelation = min(moved / walks, 1.0) if walks else 1.0
    rho = 1.0 - decorrelation
    n_effective = max(n_live * (1 - rho) / (1 + rho), 1.0)
    se = math.sqrt(max(information, 0.0) / n_effective)
    if n_effective < ctx.config.min_ess:
        ctx.warn(
            f"nested sampling's replacements are correlated copies (walk decorrelation {decorrelation:.2f}): "
            f"{n_effective:.1f} effective live points of {n_live}, below {ctx.config.min_ess:g}; "
            "raise ns_steps for a trustworthy standard error"
        )
    return (
        log_z,
        se,
        {
            "iterations": float(iterations),
            "information": information,
            "walk_acceptance": accepted / max(proposed, 1),
            "walk_decorrelation": decorrelation,
            "effective_live_points": n_effective,
        },
    )
