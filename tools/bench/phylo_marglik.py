"""Benchmark phylo-marglik against MrBayes on the study's DS2 (29 taxa, 2520 sites, JC69).

1. Pruning: the log-likelihood of one topology at fixed branch lengths, this package vs MrBayes
   (its printed initial log-likelihood); likelihood evaluations per second batched vs unbatched
   here, and MrBayes generations per second (one likelihood evaluation each, partial updates).
   DendroPy and Biopython compute no sequence likelihoods, so MrBayes is the only peer.
2. Stepping stone on the fixed topology, same model and prior (``lset nst=1 rates=equal``,
   ``prset brlenspr=unconstrained:exp(10)``, ``topologypr=fixed``), 50 steps at Beta(0.3, 1)
   quantiles: MrBayes ``ss`` (2 runs) vs this package's SS and GSS at about the same number of
   likelihood evaluations; estimates, standard errors and wall time.

Run: ``uv run --group bench python tools/bench/phylo_marglik.py [--quick] [--pruning-only]``
(``--pruning-only``: section 1 alone, a few minutes). MrBayes is
installed with ``apt-get install -y mrbayes`` when ``mb`` is missing (Debian/Ubuntu, as root).
Prints a markdown table and writes ``runs/bench/phylo_marglik.json``.
"""

from __future__ import annotations

import argparse
import math
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

# This file is named like the package it benchmarks: keep its folder off the import path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import torch  # noqa: E402

from core.results import ResultTable  # noqa: E402
from core.timing import Timer, measure  # noqa: E402
from phylo_marglik import (  # noqa: E402
    BranchLengthPosterior,
    EstimatorConfig,
    MCMCConfig,
    TreeLikelihood,
    load_study_dataset,
    marginal_likelihood,
)
from phylo_marglik.data import study_data_dir  # noqa: E402


def ensure_mrbayes() -> str | None:
    """Path of ``mb``, installing the Debian package when it is missing; None when impossible."""
    found = shutil.which("mb")
    if found:
        return found
    print("mb not found: trying 'apt-get install -y mrbayes'")
    try:
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "mrbayes"], check=True, capture_output=True, timeout=600
        )
    except (OSError, subprocess.SubprocessError) as exc:
        print(f"could not install MrBayes ({exc}); peer columns stay empty")
        return None
    return shutil.which("mb")


def _mb_version(mb: str) -> str:
    out = subprocess.run([mb, "-v"], capture_output=True, text=True, timeout=60).stdout
    match = re.search(r"Version:\s*(\S+)", out)
    return match.group(1) if match else "unknown"


def _nexus(alignment: Path, newick: str, block: str) -> str:
    return (
        alignment.read_text()
        + f"\nbegin trees;\n  tree fixedtree = {newick}\nend;\nbegin mrbayes;\n{block}end;\n"
    )


_MODEL = (
    "  set autoclose=yes nowarn=yes seed={seed} swapseed={seed};\n"
    "  lset nst=1 rates=equal;\n"
    "  prset statefreqpr=fixed(equal) topologypr=fixed(fixedtree) brlenspr=unconstrained:exp(10);\n"
)


def _run_mb(mb: str, text: str, folder: Path, name: str) -> tuple[str, float]:
    path = folder / f"{name}.nex"
    path.write_text(text.replace("FILE", str(folder / name)))
    with Timer() as timer:
        result = subprocess.run([mb, str(path)], capture_output=True, text=True, timeout=3600, cwd=folder)
    return result.stdout + result.stderr, timer.seconds


def mrbayes_log_likelihood(mb: str, alignment: Path, newick: str, folder: Path) -> float:
    """MrBayes's initial log-likelihood with the branch lengths of `newick` as start values."""
    block = _MODEL.format(seed=1) + (
        "  startvals V=fixedtree;\n"
        "  mcmc ngen=1 nruns=1 nchains=1 printfreq=1 samplefreq=1 diagnfreq=1000 file=FILE;\n"
    )
    out, _ = _run_mb(mb, _nexus(alignment, newick, block), folder, "lnl")
    match = re.search(r"Chain 1 -- (-?[\d.]+) --", out)
    if not match:
        raise RuntimeError(f"MrBayes printed no initial log-likelihood:\n{out[-2000:]}")
    return float(match.group(1))


def mrbayes_generations_per_second(mb: str, alignment: Path, newick: str, folder: Path, ngen: int) -> float:
    """Generations per second of one fixed-topology chain (start-up time subtracted)."""
    base = (
        _MODEL.format(seed=2)
        + "  mcmc ngen={n} nruns=1 nchains=1 printfreq={n} samplefreq={n} diagnfreq={n} file=FILE;\n"
    )
    _, startup = _run_mb(mb, _nexus(alignment, newick, base.format(n=1)), folder, "start")
    _, total = _run_mb(mb, _nexus(alignment, newick, base.format(n=ngen)), folder, "speed")
    return ngen / max(total - startup, 1e-9)


def mrbayes_stepping_stone(
    mb: str, alignment: Path, newick: str, folder: Path, ngen: int, steps: int, alpha: float
) -> tuple[list[float], float]:
    """Per-run log marginal likelihoods of MrBayes ``ss`` (2 runs, 1 chain each) and wall seconds."""
    block = _MODEL.format(seed=3) + (
        f"  mcmcp nruns=2 nchains=1 printfreq={ngen} samplefreq=100 diagnfreq={ngen * 10} file=FILE;\n"
        f"  ss ngen={ngen} nsteps={steps} alpha={alpha} burninss=-1;\n"
    )
    out, seconds = _run_mb(mb, _nexus(alignment, newick, block), folder, "ss")
    runs = [float(v) for v in re.findall(r"^\s+\d+\s+(-[\d.]+)\s*$", out, flags=re.MULTILINE)]
    if len(runs) < 2:
        raise RuntimeError(f"could not read MrBayes ss output:\n{out[-2000:]}")
    return runs[:2], seconds


def _two_runs(runs: list[float]) -> tuple[float, float, str]:
    """Mean, standard error (half the spread of the two runs) and the MrBayes cell of two ss runs."""
    mean, stderr = sum(runs) / 2, abs(runs[0] - runs[1]) / 2
    return mean, stderr, f"{mean:.2f} ± {stderr:.2f} (runs {runs[0]:.2f}, {runs[1]:.2f})"


def _gap(ours: float, ours_se: float, peer: float, peer_se: float) -> str:
    """Difference in nats and in combined standard errors."""
    gap = ours - peer
    return f"{gap:+.2f} nats ({abs(gap) / math.hypot(ours_se, peer_se):.1f} combined SE)"


def _finish(table: ResultTable, out: Path) -> int:
    print(table.to_markdown())
    print(f"saved {table.save(out)}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller stepping-stone budget")
    parser.add_argument("--pruning-only", action="store_true", help="section 1 only (no stepping stone)")
    parser.add_argument(
        "--mrbayes-per-step",
        type=int,
        nargs="*",
        default=[],
        metavar="N",
        help="also run MrBayes ss with N generations per step and run (e.g. 4000 40000): does its "
        "estimate move towards this package's GSS as its chains grow?",
    )
    parser.add_argument("--out", type=Path, default=Path("runs/bench"))
    parser.add_argument(
        "--data",
        type=Path,
        default=None,
        help="folder with the study's DS2 files (default: phylo-marglik's lookup)",
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    case = load_study_dataset("DS2", args.data)
    alignment = study_data_dir(args.data) / "DS2.nex"
    print(f"data: {case.data}")
    topology = case.topologies[0]
    posterior = BranchLengthPosterior(topology, case.patterns)
    gen = torch.Generator().manual_seed(0)
    lengths = 0.02 + 0.2 * torch.rand(topology.n_branches, generator=gen, dtype=torch.float64)
    newick = topology.to_newick(lengths)
    lengths = torch.tensor([float(f"{v:.10g}") for v in lengths.tolist()], dtype=torch.float64)  # as written
    ours = float(posterior.log_likelihood(lengths))

    mb = ensure_mrbayes()
    folder = Path(tempfile.mkdtemp(prefix="phylo_marglik_bench_"))
    table = ResultTable(
        "phylo_marglik",
        title="phylo-marglik vs MrBayes on DS2 (29 taxa, 2520 sites, 1246 patterns), JC69, Exp(10) prior",
        data=case.data,
    )

    # 1. pruning accuracy and throughput
    batch = 64
    many = lengths[None].repeat(batch, 1)
    batched = measure(lambda: posterior.log_likelihood(many), repeats=5, warmup=1)
    single = measure(lambda: [posterior.log_likelihood(lengths) for _ in range(batch)], repeats=3, warmup=1)
    # The general matrix path (P @ L, as GTR + Gamma uses) on the same JC69 model, for reference.
    general = TreeLikelihood(topology, case.patterns, closed_form=False)
    general_batched = measure(lambda: general.log_likelihood(many), repeats=5, warmup=1)
    general_single = measure(
        lambda: [general.log_likelihood(lengths) for _ in range(batch)], repeats=3, warmup=1
    )
    general_value = float(general.log_likelihood(lengths))
    peer_lnl = mrbayes_log_likelihood(mb, alignment, newick, folder) if mb else math.nan
    peer_speed = mrbayes_generations_per_second(mb, alignment, newick, folder, 20_000) if mb else math.nan
    table.add(
        task="log-likelihood at fixed branch lengths",
        phylo_marglik=f"{ours:.6f}",
        mrbayes=f"{peer_lnl:.6f}",
        difference=f"{abs(ours - peer_lnl):.2e}",
        notes="MrBayes prints 6 decimals and keeps conditional likelihoods in single precision",
    )
    table.add(
        task="likelihood evaluations / s",
        phylo_marglik=f"batched (64): {batched.per_second(batch):.0f}; unbatched: {single.per_second(batch):.0f}",
        mrbayes=f"{peer_speed:.0f} generations/s",
        difference=f"batched/unbatched {batched.per_second(batch) / single.per_second(batch):.2f}x; "
        f"batched/MrBayes {batched.per_second(batch) / peer_speed:.3f}x",
        notes="1 CPU thread each; a MrBayes generation recomputes only the partials a move changed",
    )

    table.add(
        task="likelihood evaluations / s, general matrix path",
        phylo_marglik=f"batched (64): {general_batched.per_second(batch):.0f}; "
        f"unbatched: {general_single.per_second(batch):.0f}",
        mrbayes="",
        difference=f"closed form faster: batched {general_batched.median / batched.median:.1f}x, "
        f"unbatched {general_single.median / single.median:.1f}x",
        notes=f"TreeLikelihood(closed_form=False), the 4x4 matrix-product path GTR + Gamma takes; "
        f"its log-likelihood differs from the closed form's by {abs(general_value - ours):.1e}",
    )
    if args.pruning_only:
        table.notes = (
            f"MrBayes {_mb_version(mb) if mb else 'unavailable'}; --pruning-only: stepping stone not run. "
            "Times from one shared 2-core machine: compare ratios."
        )
        return _finish(table, args.out)

    # 2. stepping stone, matched likelihood evaluations
    steps, alpha = 50, 0.3
    per_step = 100 if args.quick else 400
    ngen = (steps + 1) * per_step  # MrBayes: burn-in step + 50 steps of per_step generations, per run
    runs, mb_seconds = (
        mrbayes_stepping_stone(mb, alignment, newick, folder, ngen, steps, alpha)
        if mb
        else ([math.nan] * 2, math.nan)
    )
    mb_evals = 2 * ngen
    # ours: 51 chains; (iterations + burn-in) per chain so that 51 chains spend ~ the same evaluations
    per_chain = mb_evals // (steps + 1)
    thin = 5
    burnin = max(1, per_chain // (5 * thin))
    iterations = max(thin, (per_chain - burnin * thin) // thin * thin)
    config = EstimatorConfig(
        mcmc=MCMCConfig(iterations=iterations, thin=thin, burnin=burnin), n_steps=steps, alpha=alpha
    )
    mean_mb, se_mb, mb_cell = _two_runs(runs)
    table.add(
        task="stepping stone (MrBayes ss, 2 runs)",
        phylo_marglik="",
        mrbayes=mb_cell,
        difference="",
        notes=f"{mb_evals} likelihood evaluations, {mb_seconds:.1f} s",
    )
    estimates = {}
    for method in ("ss", "gss"):
        est = estimates[method] = marginal_likelihood(posterior, method, config=config, seed=1)
        table.add(
            task=f"stepping stone (phylo-marglik {method.upper()})",
            phylo_marglik=f"{est.log_marginal_likelihood:.2f} ± {est.stderr:.2f}",
            mrbayes=f"{mean_mb:.2f} ± {se_mb:.2f}",
            difference=_gap(est.log_marginal_likelihood, est.stderr, mean_mb, se_mb),
            notes=f"{est.likelihood_evaluations} likelihood evaluations, {est.seconds:.1f} s "
            f"({est.seconds / mb_seconds:.1f}x MrBayes's time)",
        )
    gss = estimates["gss"]
    for longer in args.mrbayes_per_step if mb else []:
        long_runs, long_seconds = mrbayes_stepping_stone(
            mb, alignment, newick, folder, (steps + 1) * longer, steps, alpha
        )
        long_mean, long_se, long_cell = _two_runs(long_runs)
        table.add(
            task=f"MrBayes ss, {longer} generations per step (2 runs)",
            phylo_marglik=f"GSS above: {gss.log_marginal_likelihood:.2f} ± {gss.stderr:.2f}",
            mrbayes=long_cell,
            difference=_gap(gss.log_marginal_likelihood, gss.stderr, long_mean, long_se),
            notes=f"{2 * (steps + 1) * longer} MrBayes generations, {long_seconds:.1f} s",
        )
    table.notes = (
        f"MrBayes {_mb_version(mb) if mb else 'unavailable'}; stepping stone: 50 steps, Beta(0.3, 1) "
        f"quantiles, {per_step} generations per step and run in MrBayes, {iterations} + {burnin * thin} "
        "burn-in iterations per power posterior here. Times from one shared 2-core machine: compare ratios."
    )
    return _finish(table, args.out)


if __name__ == "__main__":
    raise SystemExit(main())
