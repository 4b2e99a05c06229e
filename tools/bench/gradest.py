"""Benchmark: gradient variance and cost of every gradest estimator, and the Rao-Blackwell bound.

At fixed logits, each estimator draws R independent gradient estimates (R rows of one batch) at the
same budget of N = 3 objective evaluations (REBAR/RELAX: one draw = 3 evaluations; their control
variates frozen at their initial values; moving-average baselines at their fixed point E_q f).
Reported: variance (trace of the covariance of the logits gradient) normalised to REINFORCE, bias norm,
seconds per estimate (median of repeats, `core.timing.measure`), and for each RB variant the paper's
predicted variance ratio to its base at equal budget, (q(z not in C_k)/(N - k)) / (1/N), next to the
measured one. Peers: REINFORCE and Gumbel-softmax written with torch's own API
(`torch.distributions.Categorical`, `torch.nn.functional.gumbel_softmax`), as a user would without
this package: same variance expected, speed ratio reported.

    uv run --group bench python tools/bench/gradest.py [--repeats 20000] [--out runs/bench]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

# this file is named like the package it benchmarks: keep its folder off the import path
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != Path(__file__).resolve().parent]

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from core.results import ResultTable  # noqa: E402
from core.timing import measure  # noqa: E402
from gradest import ESTIMATORS, choose_k, exact_gradient, gradient_stats, make_estimator, top_k_split  # noqa: E402

BUDGET = 3
TIMING_REPEATS = 21


def problems() -> dict[str, tuple[torch.Tensor, object]]:
    """Two problems: the toy quadratic (K = 10, q_max = 0.86) and a random table with K = 100."""
    target = torch.linspace(0.45, 0.55, 10)
    toy_logits = torch.zeros(10)
    toy_logits[0] = 4.0
    generator = torch.Generator().manual_seed(0)
    wide_logits = 2.5 * torch.randn(100, generator=generator)
    table = torch.randn(100, generator=generator)
    return {
        "toy K=10": (toy_logits, lambda z: (z - target).pow(2).sum(-1)),
        "random K=100": (wide_logits, lambda z: (z * table).sum(-1)),
    }


def draws_for(name: str) -> int:
    return 1 if name.endswith(("rebar", "relax")) else BUDGET


def build(name: str, exact_value: float):
    estimator = (
        make_estimator(name, tune=False) if name.endswith(("rebar", "relax")) else make_estimator(name)
    )
    core = getattr(estimator, "base", estimator)
    if getattr(core, "baseline", None) == "moving-average":
        core.baseline_value = exact_value
    return estimator


def gradient_rows(estimator, logits: torch.Tensor, objective, repeats: int, num_samples: int, seed: int):
    leaf = logits.expand(repeats, -1).clone().requires_grad_(True)
    estimator(
        leaf, objective, num_samples=num_samples, generator=torch.Generator().manual_seed(seed)
    ).loss.backward()
    return leaf.grad


def peer_reinforce(logits: torch.Tensor, objective, repeats: int, seed: int) -> torch.Tensor:
    """REINFORCE with torch.distributions: mean of f(z) * grad log q(z) over N draws."""
    torch.manual_seed(seed)
    leaf = logits.expand(repeats, -1).clone().requires_grad_(True)
    dist = torch.distributions.Categorical(logits=leaf)
    z = dist.sample((BUDGET,))
    values = objective(F.one_hot(z, leaf.shape[-1]).float()).detach()
    (values * dist.log_prob(z)).mean(0).sum().backward()
    return leaf.grad


def peer_gumbel(logits: torch.Tensor, objective, repeats: int, seed: int, hard: bool) -> torch.Tensor:
    """Gumbel-softmax with torch.nn.functional.gumbel_softmax (tau = 0.5), mean over N draws."""
    torch.manual_seed(seed)
    leaf = logits.expand(repeats, -1).clone().requires_grad_(True)
    z = F.gumbel_softmax(leaf.expand(BUDGET, -1, -1), tau=0.5, hard=hard)
    objective(z).mean(0).sum().backward()
    return leaf.grad


def bench_problem(table: ResultTable, problem: str, logits: torch.Tensor, objective, repeats: int) -> None:
    """Add one row per estimator (and peer) on one problem to `table`."""
    probs = torch.softmax(logits, -1).unsqueeze(0)
    exact = exact_gradient(logits, objective)
    k_categories = logits.shape[-1]
    exact_value = float(probs[0] @ objective(torch.eye(k_categories).unsqueeze(1)).reshape(-1))
    variances: dict[str, float] = {}
    peer_rows, peer_seconds = [], {}
    for peer, ours, fn in (
        ("torch Categorical REINFORCE", "reinforce", lambda r, s: peer_reinforce(logits, objective, r, s)),
        (
            "torch gumbel_softmax soft",
            "gumbel-soft",
            lambda r, s: peer_gumbel(logits, objective, r, s, hard=False),
        ),
        (
            "torch gumbel_softmax hard",
            "gumbel-st",
            lambda r, s: peer_gumbel(logits, objective, r, s, hard=True),
        ),
    ):
        stats = gradient_stats(fn(repeats, 1), exact)
        timing = measure(lambda fn=fn: fn(1000, 2), repeats=TIMING_REPEATS, warmup=1)
        peer_seconds[ours] = timing.median
        peer_rows.append(
            {
                "problem": problem,
                "estimator": f"peer: {peer}",
                "variance": stats.variance,
                "bias norm": stats.bias,
                "us/estimate": 1e6 * timing.median / 1000,
            }
        )
    for name in ESTIMATORS:
        if name == "exact":
            continue
        draws = draws_for(name)
        estimator = build(name, exact_value)
        grads = gradient_rows(estimator, logits, objective, repeats, draws, seed=1)
        stats = gradient_stats(grads, exact)
        variances[name] = stats.variance
        timing = measure(
            lambda estimator=estimator, draws=draws: gradient_rows(
                estimator, logits, objective, 1000, draws, seed=2
            ),
            repeats=TIMING_REPEATS,
            warmup=1,
        )
        row = {
            "problem": problem,
            "estimator": name,
            "variance": stats.variance,
            "variance/reinforce": stats.variance / variances["reinforce"],
            "bias norm": stats.bias,
            "us/estimate": 1e6 * timing.median / 1000,
        }
        if name in peer_seconds:
            row["time / torch peer"] = timing.median / peer_seconds[name]
        if name.startswith("rb-"):
            k = choose_k(probs, draws)
            _, outside = top_k_split(probs, k)
            row["k"] = k
            row["rb bound"] = float(outside) / (draws - k) * draws
            row["rb measured"] = stats.variance / variances[name[3:]]
        table.add(**row)
    for row in peer_rows:
        row["variance/reinforce"] = row["variance"] / variances["reinforce"]
        table.add(**row)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=20000, help="gradient draws per estimator")
    parser.add_argument("--out", type=Path, default=Path("runs/bench"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    table = ResultTable(
        "bench_gradest",
        title=f"Gradient variance at equal budget (N = {BUDGET} evaluations), {args.repeats} draws",
        notes=(
            "variance/reinforce: trace-of-covariance ratio to REINFORCE at the same budget. rb bound: the paper's "
            "predicted ratio to the base estimator, rb measured: measured ratio (<= 1 means RB did not increase "
            "the variance). us/estimate: median microseconds per gradient estimate (batches of the draws, "
            "1 CPU thread); time / torch peer: our median time over the same estimator written with torch's API "
            "(torch.distributions REINFORCE, F.gumbel_softmax with tau 0.5), whose rows follow each problem."
        ),
    )
    for problem, (logits, objective) in problems().items():
        bench_problem(table, problem, logits, objective, args.repeats)
    print(table.to_markdown())
    path = table.save(args.out)
    meta = {"repeats": args.repeats, "budget": BUDGET, "torch": torch.__version__, "threads": 1}
    (args.out / "bench_gradest.meta.json").write_text(json.dumps(meta, indent=2))
    print(f"\nwritten: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
