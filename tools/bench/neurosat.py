"""Benchmark: NeuroSAT classification and decoding throughput on SR(40) vs. PySAT solvers on the same
problems, and SR(n) generation throughput.

    uv run --group bench python tools/bench/neurosat.py [--pairs 50] [--repeats 3] [--model PATH]

Prints a markdown table and writes ``runs/bench/neurosat.json``. The NeuroSAT rows use the paper's
architecture (d=128, T=26) on one disjoint batch graph per 12,000 nodes; the weights only matter
for the "solved" column (pass a trained model with ``--model``), not for speed. Classical solvers
are expected to be much faster on these sizes: that is reported, not hidden.
"""

from __future__ import annotations

import argparse
import platform
import sys
from pathlib import Path

# This file is named like the package: drop its own folder from the path so `import neurosat`
# finds the installed package, not this script.
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != Path(__file__).resolve().parent]

import torch  # noqa: E402
from pysat.solvers import Solver  # noqa: E402

from core.results import ResultTable  # noqa: E402
from core.timing import measure  # noqa: E402
from neurosat import NeuroSAT, NeuroSATConfig, batch_problems, batches_by_nodes, decode, generate_sr  # noqa: E402
from neurosat.train import loss_fn  # noqa: E402


def _classify(model: NeuroSAT, batches: list) -> int:
    with torch.no_grad():
        return sum(int((model(batch) > 0).sum()) for batch in batches)


def _classify_and_decode(model: NeuroSAT, batches: list) -> int:
    solved = 0
    with torch.no_grad():
        for batch in batches:
            *_, state = model.states(batch)
            solved += int(decode(batch, state.literal_h, model.votes(state.literal_h)).solved.sum())
    return solved


def _pysat(name: str, problems: list) -> int:
    solved = 0
    for problem in problems:
        with Solver(name=name, bootstrap_with=[list(c) for c in problem.clauses]) as solver:
            solved += bool(solver.solve())
    return solved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=50, help="SR(40) pairs to classify/solve (default 50)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--model", type=Path, default=None, help="trained model (default: random weights)")
    parser.add_argument("--out", type=Path, default=Path("runs/bench"))
    args = parser.parse_args()

    torch.manual_seed(0)
    problems = generate_sr(args.pairs, 40, seed=123)
    model = NeuroSAT.load(args.model) if args.model else NeuroSAT(NeuroSATConfig())
    model.eval()
    batches = [batch_problems([problems[i] for i in g]) for g in batches_by_nodes(problems, 12_000)]
    n = len(problems)
    n_sat = sum(p.is_sat for p in problems)
    table = ResultTable(
        "neurosat_bench",
        title=f"SR(40): {n} problems ({n_sat} SAT), throughput on {platform.processor() or platform.machine()}, "
        f"{torch.get_num_threads()} torch threads",
        notes=(
            "problems/s = problems per second at the median of the repeats (core.timing.measure); "
            "ratio = NeuroSAT rate / CaDiCaL rate. 'solved' counts verified SAT answers (solvers also prove UNSAT)."
        ),
    )
    rows = {}
    for label, fn in [
        (
            f"NeuroSAT classify (d={model.config.d}, T={model.config.rounds})",
            lambda: _classify(model, batches),
        ),
        ("NeuroSAT classify + decode (2-means, vote)", lambda: _classify_and_decode(model, batches)),
        ("PySAT CaDiCaL 1.5.3", lambda: _pysat("cadical153", problems)),
        ("PySAT MiniSat 2.2", lambda: _pysat("minisat22", problems)),
    ]:
        result = measure(fn, repeats=args.repeats, warmup=1)
        rows[label] = (result.per_second(n), result.last_value)
    reference = rows["PySAT CaDiCaL 1.5.3"][0]
    for label, (rate, value) in rows.items():
        solved = value if "decode" in label or "PySAT" in label else "-"
        table.add(task=label, problems_per_s=rate, ratio_vs_cadical=rate / reference, solved=solved)

    # One optimisation step of the paper's setting, the unit of the --scale full estimate.
    train_problems = generate_sr(400, 10, 40, seed=5)
    first = batches_by_nodes(train_problems, 12_000)[0]
    train_batch = batch_problems([train_problems[i] for i in first])
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-5)

    def train_step() -> float:
        model.train()
        loss = loss_fn(model, model(train_batch), train_batch.labels, 1e-10)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return float(loss.detach())

    step = measure(train_step, repeats=max(1, args.repeats - 1), warmup=1)
    model.eval()
    table.add(
        task=f"NeuroSAT training step, 12,000-node SR(U(10,40)) batch ({len(first)} problems), s/step={step.median:.2f}",
        problems_per_s=step.per_second(len(first)),
        ratio_vs_cadical=step.per_second(len(first)) / reference,
        solved="-",
    )

    pairs = 40
    for jobs in (1, 2):
        result = measure(lambda jobs=jobs: generate_sr(pairs, 40, seed=7, n_jobs=jobs), repeats=args.repeats)
        table.add(
            task=f"SR(40) generation, joblib n_jobs={jobs}",
            problems_per_s=result.per_second(2 * pairs),
            ratio_vs_cadical=result.per_second(2 * pairs) / reference,
            solved="-",
        )
    print(table.to_markdown())
    args.out.mkdir(parents=True, exist_ok=True)
    path = table.save(args.out)
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
