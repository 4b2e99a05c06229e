"""Benchmark: NeuroSAT classification and decoding throughput on SR(40) vs. PySAT solvers on the same
problems, and SR(n) generation throughput.

    uv run --group bench python tools/bench/neurosat.py [--pairs 50] [--repeats 3] [--model PATH]
    uv run --group bench python tools/bench/neurosat.py --train-only [--train-d 128] [--compile]
    uv run --group bench python tools/bench/neurosat.py --breakdown-only [--train-d 32] [--train-nodes 4000]

The first table times one training step (paper's d=128, T=26, a 12,000-node batch): seconds, FLOPs
counted by `neurosat.flops`, achieved GFLOP/s and its share of the machine's measured fp32 GEMM
rate, for the COO and CSR sparse formats (and `torch.compile` with ``--compile``). The breakdown
table splits the step `neurosat.fit` takes (batch building, forward, backward, L2 + clipping +
Adam) into its parts, and times the one rewrite of the LSTM cell that was tried (one layer norm over
the four gates instead of four).

Prints a markdown table and writes ``runs/bench/neurosat.json``. The NeuroSAT rows use the paper's
architecture (d=128, T=26) on one disjoint batch graph per 12,000 nodes; the weights only matter
for the "solved" column (pass a trained model with ``--model``), not for speed. Classical solvers
are expected to be much faster on these sizes: that is reported, not hidden.
"""

from __future__ import annotations

import argparse
import platform
import sys
from dataclasses import replace
from pathlib import Path

# This file is named like the package: drop its own folder from the path so `import neurosat`
# finds the installed package, not this script.
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != Path(__file__).resolve().parent]

import torch  # noqa: E402
from pysat.solvers import Solver  # noqa: E402

from core.results import ResultTable  # noqa: E402
from core.timing import measure  # noqa: E402
from neurosat import NeuroSAT, NeuroSATConfig, batch_problems, batches_by_nodes, decode, generate_sr  # noqa: E402
from neurosat.flops import train_step_flops  # noqa: E402
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
    parser.add_argument("--train-only", action="store_true", help="only the training-step table")
    parser.add_argument("--train-d", type=int, default=128, help="embedding size of the training-step rows")
    parser.add_argument("--train-rounds", type=int, default=26)
    parser.add_argument("--train-nodes", type=int, default=12_000)
    parser.add_argument("--compile", action="store_true", help="also time torch.compile(model)")
    parser.add_argument("--breakdown-only", action="store_true", help="only the step-breakdown table")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    parts = step_breakdown_table(args.train_d, args.train_rounds, args.train_nodes, max(2, args.repeats))
    print(parts.to_markdown())
    print(f"\nwrote {parts.save(args.out)}\n")
    if args.breakdown_only:
        return
    steps = train_step_table(
        args.train_d, args.train_rounds, args.train_nodes, max(1, args.repeats - 1), args.compile
    )
    print(steps.to_markdown())
    print(f"\nwrote {steps.save(args.out)}\n")
    if args.train_only:
        return

    problems = generate_sr(args.pairs, 40, seed=123)
    model = (
        NeuroSAT.load(args.model)
        if args.model
        else NeuroSAT(NeuroSATConfig(), generator=torch.Generator().manual_seed(0))
    )
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


def _gemm_rate(size: int = 1024, repeats: int = 3) -> float:
    """Achieved FLOP/s of one dense fp32 matrix product on this machine and thread count (the practical peak)."""
    a, b = torch.randn(size, size), torch.randn(size, size)
    result = measure(lambda: a @ b, repeats=repeats, warmup=1)
    return 2 * size**3 / result.median


def _fused_gate_cell(cell, x, h, c):
    """The LSTM cell with its four gate layer norms as one ``layer_norm`` over an (N, 4, d) view.

    Tried as a way to save the passes and copies of four LayerNorms on non-contiguous chunks;
    kept here as a benchmark variant only, because it measured no faster (see the table).
    """
    n, d = h.shape[0], cell.d
    gates = cell.linear(torch.cat([x, h], dim=1)).view(n, 4, d)
    weight = torch.stack([norm.weight for norm in cell.gate_norms])
    shift = torch.stack([norm.bias for norm in cell.gate_norms])
    shift = shift + torch.tensor([0.0, 0.0, 1.0, 0.0]).unsqueeze(1)  # the forget gate's +1
    i, g, f, o = (torch.nn.functional.layer_norm(gates, (d,)) * weight + shift).unbind(1)
    c_new = cell.cell_norm(torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g))
    return torch.sigmoid(o) * torch.tanh(c_new), c_new


def step_breakdown_table(d: int, rounds: int, max_nodes: int, repeats: int) -> ResultTable:
    """Where the time of one `neurosat.fit` step goes, part by part, and the fused-gate variant.

    The parts are those of `neurosat.train._step`: building the batch graph from the problems
    (done for every step), forward, backward, then L2 + gradient clipping + Adam. Each part is
    timed with ``time.perf_counter`` around it; the median over `repeats` steps after a warm-up.
    """
    import statistics
    import time

    from neurosat.model import LayerNormLSTMCell
    from neurosat.train import TrainConfig

    problems = generate_sr(400, 10, 40, seed=5)
    chosen = [problems[i] for i in batches_by_nodes(problems, max_nodes)[0]]
    config = NeuroSATConfig(d=d, rounds=rounds)
    train = TrainConfig(rounds=rounds)
    names = ["batch graph from problems", "forward", "backward", "L2 + clip + Adam"]

    def timed_steps(model: NeuroSAT) -> dict[str, float]:
        optimizer = torch.optim.Adam(model.parameters(), lr=2e-5)
        rows: dict[str, list[float]] = {name: [] for name in names}
        for _ in range(repeats + 1):
            marks = [time.perf_counter()]
            batch = batch_problems(chosen)
            marks.append(time.perf_counter())
            logits = model(batch, rounds)
            ce = torch.nn.functional.binary_cross_entropy_with_logits(logits, batch.labels, reduction="sum")
            marks.append(time.perf_counter())
            optimizer.zero_grad(set_to_none=True)
            ce.backward()
            marks.append(time.perf_counter())
            l2 = sum(p.pow(2).sum() for p in model.parameters())  # its gradient is negligible at 1e-10
            torch.nn.utils.clip_grad_norm_(model.parameters(), train.clip_norm)
            optimizer.step()
            float(l2)
            marks.append(time.perf_counter())
            for name, a, b in zip(names, marks, marks[1:]):
                rows[name].append(b - a)
        return {name: statistics.median(values[1:]) for name, values in rows.items()}

    model = NeuroSAT(config, generator=torch.Generator().manual_seed(0))
    parts = timed_steps(model)
    original = LayerNormLSTMCell.forward
    try:
        LayerNormLSTMCell.forward = _fused_gate_cell
        fused = timed_steps(NeuroSAT(config, generator=torch.Generator().manual_seed(0)))
    finally:
        LayerNormLSTMCell.forward = original
    total = sum(parts.values())
    batch = batch_problems(chosen)
    table = ResultTable(
        "neurosat_step_breakdown",
        title=(
            f"Parts of one training step, d={d}, T={rounds}, {max_nodes}-node SR(U(10,40)) batch "
            f"({len(chosen)} problems, {batch.n_literals + batch.n_clauses} nodes), "
            f"{torch.get_num_threads()} torch thread(s)"
        ),
        notes=(
            f"Median of {repeats} steps after one warm-up, time.perf_counter around each part. "
            "'fused gates' = the same step with the LSTM cells' four gate LayerNorms computed as one "
            "layer_norm over an (N, 4, d) view (tools/bench/neurosat.py::_fused_gate_cell), a peer "
            "measured in the same run."
        ),
        data="400 SR(U(10,40)) pairs generated with seed 5 (first batch)",
    )
    for name in names:
        table.add(
            part=name,
            seconds=parts[name],
            share_of_step=parts[name] / total,
            seconds_fused_gates=fused[name],
        )
    table.add(part="whole step", seconds=total, share_of_step=1.0, seconds_fused_gates=sum(fused.values()))
    return table


def _with_format(batch, fmt: str):
    """The batch with its adjacency in COO (as built) or CSR (torch.sparse_csr)."""
    if fmt == "coo":
        return batch
    return replace(batch, adj=batch.adj.to_sparse_csr(), adj_t=batch.adj_t.to_sparse_csr())


def train_step_table(d: int, rounds: int, max_nodes: int, repeats: int, compile_model: bool) -> ResultTable:
    """Seconds, FLOPs and achieved GFLOP/s of one training step, per sparse format (and torch.compile)."""
    train_problems = generate_sr(400, 10, 40, seed=5)
    first = batches_by_nodes(train_problems, max_nodes)[0]
    batch = batch_problems([train_problems[i] for i in first])
    config = NeuroSATConfig(d=d, rounds=rounds)
    edges = int(batch.edge_lit.shape[0])
    flops = train_step_flops(config, batch.n_literals, batch.n_clauses, edges)
    peak = _gemm_rate()
    table = ResultTable(
        "neurosat_train_step",
        title=(
            f"One training step, d={d}, T={rounds}, {max_nodes}-node SR(U(10,40)) batch ({len(first)} problems, "
            f"L={batch.n_literals}, C={batch.n_clauses}, E={edges}), {torch.get_num_threads()} torch thread(s)"
        ),
        notes=(
            f"FLOPs per step {flops / 1e9:.1f} G (neurosat.flops: dense layers + sparse products, forward + "
            f"backward = 3 x forward). Peak = measured 1024^3 fp32 GEMM on the same threads: "
            f"{peak / 1e9:.1f} GFLOP/s. Median of {repeats} steps after one warm-up (core.timing.measure)."
        ),
        data="400 SR(U(10,40)) pairs generated with seed 5 (first batch)",
    )
    print(f"{flops / 1e9:.2f} GFLOP per step; GEMM peak {peak / 1e9:.1f} GFLOP/s", flush=True)
    variants = [("COO adjacency (as built)", "coo", False), ("CSR adjacency", "csr", False)]
    if compile_model:
        variants.append(("COO + torch.compile(model)", "coo", True))
    for label, fmt, compiled in variants:
        model = NeuroSAT(config, generator=torch.Generator().manual_seed(0))
        step_model = torch.compile(model) if compiled else model
        optimizer = torch.optim.Adam(model.parameters(), lr=2e-5)
        variant = _with_format(batch, fmt)

        def train_step(step_model=step_model, model=model, optimizer=optimizer, variant=variant) -> float:
            loss = loss_fn(model, step_model(variant), variant.labels, 1e-10)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            return float(loss.detach())

        try:
            result = measure(train_step, repeats=repeats, warmup=1)
        except Exception as exc:  # torch.compile needs a working C++ toolchain; report, do not hide
            table.add(
                variant=label,
                seconds_per_step=None,
                gflop_per_s=None,
                share_of_peak=None,
                note=f"failed: {type(exc).__name__}: {str(exc).splitlines()[0][:120]}",
            )
            continue
        rate = flops / result.median
        table.add(
            variant=label,
            seconds_per_step=result.median,
            gflop_per_s=rate / 1e9,
            share_of_peak=rate / peak,
            note="",
        )
        print(f"{label}: {result.median:.3f} s/step, {rate / 1e9:.2f} GFLOP/s", flush=True)
    return table


if __name__ == "__main__":
    main()
