"""Benchmark: gradient variance and cost of every gradest estimator, and the Rao-Blackwell bound.

At fixed logits, each estimator draws R gradient estimates at the same budget of N = 3 objective
evaluations (REBAR/RELAX: one draw = 3 evaluations), run as users run it (`gradest.running_gradient_draws`):
its moving-average baseline or online-tuned REBAR/RELAX control variate evolves over 100 warm-up calls
of 100 rows and keeps evolving over the calls that give the draws. Reported: variance (trace of the
covariance of the logits gradient) normalised to REINFORCE, the exact variance at the state reached
(by enumeration, `gradest.enumerated_variance`, REINFORCE family), bias norm, seconds per estimate
(median of repeats, `core.timing.measure`), and for each RB variant the paper's predicted variance ratio
to its base at equal budget, (q(z not in C_k)/(N - k)) / (1/N), next to the measured and the exact one.
The RB compositions of bases with Gumbel noise take an explicit k (k = 'auto' is refused for them):
k = 1 for Gumbel at N = 3, and REBAR/RELAX at two draws (6 evaluations) against their base at two draws.
Peers: REINFORCE and Gumbel-softmax written with torch's own API (`torch.distributions.Categorical`,
`torch.nn.functional.gumbel_softmax`), as a user would without this package: same variance expected,
speed ratio reported. A second table measures the peak memory of `Exact` at K = 2000 (a subprocess
each, `resource.getrusage` peak RSS over the RSS after importing torch) against the (K, B, K) one-hot
block it used to build.

    uv run --group bench python tools/bench/gradest.py [--repeats 20000] [--out runs/bench]
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
from pathlib import Path

# this file is named like the package it benchmarks: keep its folder off the import path
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != Path(__file__).resolve().parent]

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from core.cli import output_folder, positive_int  # noqa: E402
from core.errors import InputError  # noqa: E402
from core.provenance import provenance  # noqa: E402
from core.results import ResultTable  # noqa: E402
from core.timing import measure  # noqa: E402
from gradest import (  # noqa: E402
    ESTIMATORS,
    choose_k,
    enumerated_variance,
    exact_gradient,
    gradient_stats,
    make_estimator,
    running_gradient_draws,
    top_k_split,
)

BUDGET = 3
TIMING_REPEATS = 21
NOISY = ("gumbel-soft", "gumbel-st", "rebar", "relax")


def problems() -> dict[str, tuple[torch.Tensor, object]]:
    """Three problems: the toy quadratic (K = 10, q_max = 0.86), a random table with K = 100, and K = 2000 with
    two heavy categories (q = 0.51, 0.47) whose E[f | z outside C_1] (0.80) is far from E_q f (1.67)."""
    target = torch.linspace(0.45, 0.55, 10)
    toy_logits = torch.zeros(10)
    toy_logits[0] = 4.0
    generator = torch.Generator().manual_seed(0)
    wide_logits = 2.5 * torch.randn(100, generator=generator)
    table = torch.randn(100, generator=generator)
    heavy_logits = torch.full((2000,), math.log(0.02 / 1998))
    heavy_logits[0], heavy_logits[1] = math.log(0.51), math.log(0.47)
    heavy_table = 2.0 + 0.1 * torch.randn(2000, generator=torch.Generator().manual_seed(0))
    heavy_table[0], heavy_table[1] = 2.5, 0.75
    return {
        "toy K=10": (toy_logits, lambda z: (z - target).pow(2).sum(-1)),
        "random K=100": (wide_logits, lambda z: (z * table).sum(-1)),
        "two heavy K=2000": (heavy_logits, lambda z: (z * heavy_table).sum(-1)),
    }


def variants() -> list[tuple[str, str, int, dict]]:
    """(label, registry name, draws, options) for every estimator measured."""
    rows = []
    for name in ESTIMATORS:
        if name == "exact":
            continue
        base = name.removeprefix("rb-")
        draws = 1 if base in ("rebar", "relax") else BUDGET
        options = {"k": 1 if draws >= 2 else 0} if name.startswith("rb-") and base in NOISY else {}
        rows.append((name if not options else f"{name} k={options['k']}", name, draws, options))
    for base in ("rebar", "relax"):  # at two draws (6 evaluations), where k = 1 leaves one draw outside
        rows.append((f"{base} N=2", base, 2, {}))
        rows.append((f"rb-{base} k=1 N=2", f"rb-{base}", 2, {"k": 1}))
    return rows


def base_label(label: str) -> str:
    """The row an RB variant is compared with: its base at the same number of draws."""
    name = label.split(" ")[0].removeprefix("rb-")
    return f"{name} N=2" if label.endswith("N=2") else name


def gradient_rows(estimator, logits: torch.Tensor, objective, repeats: int, num_samples: int, seed: int):
    leaf = logits.expand(repeats, -1).clone().requires_grad_(True)
    estimator(
        leaf, objective, num_samples=num_samples, generator=torch.Generator().manual_seed(seed)
    ).loss.backward()
    return leaf.grad


def peer_reinforce(logits: torch.Tensor, objective, repeats: int, seed: int) -> torch.Tensor:
    """REINFORCE with torch.distributions: mean of f(z) * grad log q(z) over N draws (global RNG, forked)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return _peer_reinforce(logits, objective, repeats)


def _peer_reinforce(logits: torch.Tensor, objective, repeats: int) -> torch.Tensor:
    leaf = logits.expand(repeats, -1).clone().requires_grad_(True)
    dist = torch.distributions.Categorical(logits=leaf)
    z = dist.sample((BUDGET,))
    values = objective(F.one_hot(z, leaf.shape[-1]).float()).detach()
    (values * dist.log_prob(z)).mean(0).sum().backward()
    return leaf.grad


def peer_gumbel(logits: torch.Tensor, objective, repeats: int, seed: int, hard: bool) -> torch.Tensor:
    """Gumbel-softmax with torch.nn.functional.gumbel_softmax (tau = 0.5), mean over N draws (global RNG, forked)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return _peer_gumbel(logits, objective, repeats, hard)


def _peer_gumbel(logits: torch.Tensor, objective, repeats: int, hard: bool) -> torch.Tensor:
    leaf = logits.expand(repeats, -1).clone().requires_grad_(True)
    z = F.gumbel_softmax(leaf.expand(BUDGET, -1, -1), tau=0.5, hard=hard)
    objective(z).mean(0).sum().backward()
    return leaf.grad


def bench_problem(table: ResultTable, problem: str, logits: torch.Tensor, objective, repeats: int) -> None:
    """Add one row per estimator (and peer) on one problem to `table`."""
    probs = torch.softmax(logits, -1).unsqueeze(0)
    exact = exact_gradient(logits, objective)
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
    exact_variances: dict[str, float | None] = {}
    for label, name, draws, options in variants():
        estimator = make_estimator(name, **options)
        grads = running_gradient_draws(
            estimator,
            logits,
            objective,
            repeats,
            num_samples=draws,
            generator=torch.Generator().manual_seed(1),
        )
        stats = gradient_stats(grads, exact)
        variances[label] = stats.variance
        try:
            exact_variances[label], _ = enumerated_variance(estimator, logits, objective, draws)
        except InputError:
            exact_variances[label] = None
        timing = measure(
            lambda estimator=estimator, draws=draws: gradient_rows(
                estimator, logits, objective, 1000, draws, seed=2
            ),
            repeats=TIMING_REPEATS,
            warmup=1,
        )
        row = {
            "problem": problem,
            "estimator": label,
            "variance": stats.variance,
            "exact variance": exact_variances[label],
            "variance/reinforce": stats.variance / variances["reinforce"],
            "bias norm": stats.bias,
            "us/estimate": 1e6 * timing.median / 1000,
        }
        if label in peer_seconds:
            row["time / torch peer"] = timing.median / peer_seconds[label]
        if name.startswith("rb-"):
            k = options.get("k", "auto")
            k = choose_k(probs, draws) if k == "auto" else k
            _, outside = top_k_split(probs, k)
            base = base_label(label)
            row["k"] = k
            row["rb bound"] = float(outside) / (draws - k) * draws
            row["rb measured"] = stats.variance / variances[base]
            if exact_variances[label] is not None and exact_variances[base]:
                row["rb exact"] = exact_variances[label] / exact_variances[base]
        table.add(**row)
    for row in peer_rows:
        row["variance/reinforce"] = row["variance"] / variances["reinforce"]
        table.add(**row)


_MEMORY_PROBE = """
import json, resource, sys, time
import torch
categories, rows, mode = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
torch.set_num_threads(1)
generator = torch.Generator().manual_seed(0)
logits = torch.randn(rows, categories, generator=generator).requires_grad_(True)
table = torch.randn(rows, categories, generator=generator)
objective = lambda z: (z * table).sum(-1)
if mode == "chunked":
    from gradest import Exact
    estimator = Exact()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
began = time.perf_counter()
if mode == "chunked":
    loss = estimator(logits, objective).loss
else:  # what Exact did before: every one-hot at once, a (K, B, K) block
    z = torch.eye(categories).unsqueeze(1).expand(categories, rows, categories)
    loss = (torch.softmax(logits, -1).transpose(0, 1) * objective(z)).sum()
loss.backward()
seconds = time.perf_counter() - began
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"extra_peak_mb": (peak - before) / 1024, "seconds": seconds}))
"""


def memory_table() -> ResultTable:
    """Peak memory of the exact gradient at K = 2000: `Exact` (chunked) against the old (K, B, K) block."""
    table = ResultTable(
        "bench_gradest_exact_memory",
        title="Exact gradient at K = 2000 categories: peak memory and time",
        notes=(
            "Objective f(z) = <z, table> per row; each case in its own process (1 thread); extra peak RSS = "
            "getrusage peak after the gradient minus the peak before it (logits and table already allocated). "
            "one-hot block: the former Exact, every one-hot at once ((K, B, K) floats, 4 K^2 B bytes: 8 GB at "
            "B = 500, so it is only run at small B here)."
        ),
        data="simulated: standard normal logits and table (seed 0)",
    )
    for mode, rows in (("one-hot block", 20), ("chunked", 20), ("chunked", 500)):
        done = subprocess.run(
            [
                sys.executable,
                "-c",
                _MEMORY_PROBE,
                "2000",
                str(rows),
                "chunked" if mode == "chunked" else "block",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        measured = json.loads(done.stdout.strip().splitlines()[-1])
        table.add(
            method=mode,
            K=2000,
            B=rows,
            **{
                "(K, B, K) block MB": 4 * 2000 * rows * 2000 / 2**20,
                "extra peak MB": measured["extra_peak_mb"],
                "seconds": measured["seconds"],
            },
        )
    return table


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=positive_int, default=20000, help="gradient draws per estimator")
    parser.add_argument("--out", type=output_folder, default=Path("runs/bench"))
    parser.add_argument("--problem", action="append", default=[], help="only these problems (repeatable)")
    parser.add_argument("--skip-memory", action="store_true", help="skip the Exact memory table")
    parser.add_argument("--skip-variance", action="store_true", help="skip the variance table")
    args = parser.parse_args()
    torch.set_num_threads(1)
    table = ResultTable(
        "bench_gradest",
        title=f"Gradient variance at equal budget (N = {BUDGET} evaluations), {args.repeats} draws",
        notes=(
            "Estimators run as users run them (baselines and control variates evolving over calls). "
            "variance/reinforce: trace-of-covariance ratio to REINFORCE at the same budget; exact variance: by "
            "enumeration at the state reached (REINFORCE family). rb bound: the paper's predicted ratio to the base "
            "estimator at equal budget (it covers the REINFORCE family only); rb measured / rb exact: measured / "
            "enumerated ratio to the base at the same draws. us/estimate: median microseconds per gradient estimate (batches of the draws, "
            "1 CPU thread); time / torch peer: our median time over the same estimator written with torch's API "
            "(torch.distributions REINFORCE, F.gumbel_softmax with tau 0.5), whose rows follow each problem."
        ),
    )
    provenance_record = provenance(
        package="gradest", seed=1, scale=f"repeats={args.repeats}", command=sys.argv
    )
    if not args.skip_memory:
        memory = memory_table()
        print(memory.to_markdown(), flush=True)
        print(f"written: {memory.save(args.out, provenance=provenance_record)}\n", flush=True)
    if args.skip_variance:
        return 0
    for problem, (logits, objective) in problems().items():
        if args.problem and problem not in args.problem:
            continue
        bench_problem(table, problem, logits, objective, args.repeats)
    print(table.to_markdown())
    path = table.save(args.out, provenance=provenance_record)
    print(f"\nwritten: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
