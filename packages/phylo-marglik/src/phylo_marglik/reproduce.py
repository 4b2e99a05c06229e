"""Headline experiment: the study's evaluation of the 19 estimators (Fourment et al. 2020).

For each data set: every estimator on every listed topology, replicated; log marginal
likelihoods renormalised over the list and compared with the reference (SRF) posterior by
KL(SRF || estimate) and split-probability RMSD; seconds and likelihood evaluations per estimate;
a figure of accuracy against time per estimator.

- ``--scale smoke``: DS2 (29 taxa, 5 topologies), 2 replicates, much reduced budgets (minutes).
- ``--scale full``: DS1-DS5 and DS3s at the study's budgets, 10 replicates (days of CPU at
  1,000,000 iterations per chain; meant for a cluster or a long GPU run).
The study's files are found by the lookup order of `phylo_marglik.study_data` (``--data DIR``,
``$PHYLO_MARGLIK_DATA``, the cache of ``phylo-marglik data fetch``, ../shared/data beside a
checkout); without them the run stops with one line saying how to get them. ``--data simulated``
runs the bundled simulated case instead (no reference, so only the estimates table). Every table
is published as soon as it is computed, and its ``data=`` names the folder and files it used.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from core.cli import RunOptions
from core.device import torch_threads
from core.errors import InputError
from core.results import ResultTable, mean_sd
from phylo_marglik.data import TopologySet, load_study_dataset, simulated_case
from phylo_marglik.estimators import EstimatorConfig, estimator_names
from phylo_marglik.mcmc import MCMCConfig
from phylo_marglik.metrics import normalize_log
from phylo_marglik.study import StudyConfig, run_study, score_study

__all__ = ["check_device", "reproduce", "smoke_config", "study_cases", "tables_for"]

FULL_DATASETS = ("DS1", "DS2", "DS3", "DS3s", "DS4", "DS5")


SIMULATED = "simulated"


def smoke_config() -> StudyConfig:
    """The smoke scale (minutes on 2 cores for 19 estimators x 5 topologies x 2 replicates):
    8 power posteriors of 150 (+20 burn-in) iterations, a 3000-iteration posterior chain, 200
    importance draws, 8 live points, 60 variational steps. Shorter than the "quick" preset of
    `EstimatorConfig.preset` (sized for one estimate), so most sampling estimators are unconverged
    here and say so (ESS warnings); the optimisation-based ones are not affected."""
    estimator = EstimatorConfig(
        mcmc=MCMCConfig(iterations=150, thin=2, burnin=10),
        posterior_mcmc=MCMCConfig(iterations=3000, thin=3, burnin=20),
        n_steps=8,
        importance_samples=200,
        live_points=8,
        ns_replace=4,
        ns_steps=3,
        ns_tolerance=1e-2,
        ns_max_iterations=200,
        vi_iterations=60,
        vi_samples=4,
        vi_learning_rate=0.03,
        optimizer_iterations=100,
    )
    return StudyConfig(replicates=2, estimator=estimator)


def study_cases(scale: str, data: str | Path | None = None) -> list[TopologySet]:
    """The data sets of a scale (DS2 for smoke, all six for full), or the simulated case when
    `data` is the name ``"simulated"``.

    Raises:
        InputError: when the study's files are not found (the message says how to get them).
    """
    if data is not None and str(data) == SIMULATED:
        return [simulated_case()]
    names = ("DS2",) if scale == "smoke" else FULL_DATASETS
    return [load_study_dataset(name, data) for name in names]


def tables_for(case: TopologySet, records: list[dict[str, Any]], config: StudyConfig) -> list[ResultTable]:
    """The accuracy table (when the case has a reference) and the per-topology estimates table."""
    tables = []
    methods = [m for m in estimator_names() if m in config.estimators]
    if case.reference is not None:
        scores = score_study(case, records)
        accuracy = ResultTable(
            f"accuracy_{case.name}",
            title=f"{case.name}: accuracy of the renormalised marginal likelihoods vs the SRF posterior",
            data=case.data,
        )
        order = sorted(
            methods, key=lambda m: np.mean([s["kl"] for s in scores if s["method"] == m] or [np.inf])
        )
        for method in order:
            rows = [s for s in scores if s["method"] == method]
            if not rows:
                continue
            top = sorted({s["top_tree"] for s in rows})
            accuracy.add(
                estimator=method,
                kl=mean_sd([s["kl"] for s in rows]),
                split_rmsd=mean_sd([s["split_rmsd"] for s in rows]),
                top_tree=", ".join(str(t) for t in top),
                seconds_per_estimate=float(np.mean([s["seconds"] for s in rows])),
                evaluations_per_estimate=float(np.mean([s["evaluations"] for s in rows])),
                unconverged=_unconverged(records, method),
            )
        accuracy.notes = _accuracy_notes(case, records, scores, config)
        tables.append(accuracy)
    estimates = ResultTable(
        f"estimates_{case.name}",
        title=f"{case.name}: log marginal likelihood per topology (mean ± sd over replicates)",
        data=case.data,
    )
    reference = case.reference / case.reference.sum() if case.reference is not None else None
    for method in methods:
        row: dict[str, Any] = {"estimator": method}
        means = []
        for tree in range(len(case.topologies)):
            values = [r["log_ml"] for r in records if r["method"] == method and r["tree"] == tree]
            means.append(float(np.mean(values)))
            row[f"tree {tree}"] = mean_sd(values, digits=2)
        if np.all(np.isfinite(means)):
            row["renormalised probabilities"] = ", ".join(f"{p:.3f}" for p in np.exp(normalize_log(means)))
        row["unconverged"] = _unconverged(records, method)
        estimates.add(**row)
    if reference is not None:
        estimates.add(
            estimator="SRF (reference)",
            **{f"tree {t}": "" for t in range(len(case.topologies))},
            **{"renormalised probabilities": ", ".join(f"{p:.3f}" for p in reference)},
        )
    tables.append(estimates)
    return tables


def _unconverged(records: list[dict[str, Any]], method: str) -> str:
    """``"k of n"`` unconverged estimates of `method`, with the first reason; ``"0 of n"`` when none."""
    mine = [r for r in records if r["method"] == method]
    bad = [r for r in mine if not r.get("converged", True)]
    text = f"{len(bad)} of {len(mine)}"
    return f"{text} ({bad[0]['problems']})" if bad else text


def _accuracy_notes(
    case: TopologySet, records: list[dict[str, Any]], scores: list[dict[str, Any]], config: StudyConfig
) -> str:
    kl = {m: np.mean([s["kl"] for s in scores if s["method"] == m]) for m in {s["method"] for s in scores}}
    ranking = sorted(kl, key=kl.get)
    lines = [
        f"{config.replicates} replicates per estimator and topology; KL in nats over the {len(case.topologies)} "
        "listed topologies (renormalised); split RMSD over their non-trivial splits. Seconds and likelihood "
        "evaluations per estimate include shared MCMC runs and modes.",
        f"Budgets: {config.estimator}.",
        "'unconverged' counts estimates that missed their own stopping rule or met a degenerate sample "
        "(their values are shown but not to be trusted; scores skip non-finite ones).",
    ]
    if "gss" in kl:
        lines.append(
            f"GSS ranks {ranking.index('gss') + 1} of {len(ranking)} by mean KL (the study: GSS most accurate)."
        )
    if "hm" in kl and "gss" in kl:
        diff = [
            r_hm["log_ml"] - r_gss["log_ml"]
            for r_hm in records
            if r_hm["method"] == "hm"
            for r_gss in records
            if r_gss["method"] == "gss"
            and (r_gss["tree"], r_gss["replicate"]) == (r_hm["tree"], r_hm["replicate"])
        ]
        lines.append(
            f"Harmonic mean minus GSS log marginal likelihood: {mean_sd(diff, digits=2)} nats "
            "(the study: HM biased upward)."
        )
    return " ".join(lines)


def _plot(scores_by_case: dict[str, list[dict[str, Any]]], out: Path) -> Path | None:
    from core.plots import new_figure, save_figure

    cases = [c for c, s in scores_by_case.items() if s]
    if not cases:
        return None
    fig = new_figure(6.5 * len(cases), 5)
    axes = fig.subplots(1, len(cases), squeeze=False)
    for ax, case in zip(axes[0], cases):
        scores = scores_by_case[case]
        for method in sorted({s["method"] for s in scores}):
            rows = [s for s in scores if s["method"] == method]
            secs = np.mean([s["seconds"] for s in rows])
            kls = np.array([s["kl"] for s in rows])
            ax.errorbar(secs, max(kls.mean(), 1e-6), yerr=kls.std() if len(kls) > 1 else None, fmt="o")
            ax.annotate(
                method.upper(), (secs, max(kls.mean(), 1e-6)), textcoords="offset points", xytext=(4, 3)
            )
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("seconds per estimate (shared runs included)")
        ax.set_ylabel("KL(SRF || estimate), nats")
        ax.set_title(f"{case}: accuracy vs time")
        ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    return save_figure(fig, out / "accuracy_vs_time.png", dpi=120)


def reproduce(options: RunOptions) -> list[ResultTable]:
    """Run the study's evaluation at `options.scale`; each table is published as it is computed,
    every estimate saved as ``records_<case>``, the figure written to `options.out`.

    Raises:
        InputError: the study's data is missing (unless ``options.data`` is ``"simulated"``).
    """
    check_device(options.device)
    config = smoke_config() if options.scale == "smoke" else StudyConfig()
    cases = study_cases(options.scale, options.data)  # fails before any work when data is missing
    # Pruning runs many small tensor ops: on CPU, intra-op threads only add synchronisation
    # (and oversubscribe shared machines), so the run uses one unless --threads says otherwise.
    with torch_threads(options.threads or 1):
        return _run(options, config, cases)


def _run(options: RunOptions, config: StudyConfig, cases: list[TopologySet]) -> list[ResultTable]:
    tables: list[ResultTable] = []
    scores_by_case: dict[str, list[dict[str, Any]]] = {}
    for case in cases:
        records = run_study(case, config, seed=options.seed)
        raw = ResultTable(
            f"records_{case.name}", rows=records, title=f"{case.name}: every estimate", data=case.data
        )
        options.publish(raw, quiet=True)
        for table in tables_for(case, records, config):
            options.publish(table)
            tables.append(table)
        tables.append(raw)
        if case.reference is not None:
            scores_by_case[case.name] = score_study(case, records)
    _plot(scores_by_case, options.out)
    return tables


def check_device(device: str) -> None:
    """The estimators run on CPU (their generators and samples are CPU tensors): "auto" and
    "cpu" are accepted, any other device is refused by name rather than ignored.

    Raises:
        InputError: for cuda, cuda:N or mps.
    """
    if device not in ("auto", "cpu"):
        raise InputError(
            "phylo-marglik's estimators run on CPU only",
            item=f"--device {device}",
            expected="--device cpu or auto",
        )


def with_budget(config: StudyConfig, **changes: Any) -> StudyConfig:
    """`config` with estimator budget fields replaced (``with_budget(cfg, n_steps=20)``)."""
    return replace(config, estimator=replace(config.estimator, **changes))
