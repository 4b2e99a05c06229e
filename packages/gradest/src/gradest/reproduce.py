"""Headline experiment: every estimator on the paper's toy, a categorical VAE on digits, and hard attention.

``uv run reproduce gradest --scale smoke`` (minutes on 2 CPU cores) or ``--scale full``. All estimators get
the same number of objective evaluations per step (N = 3; REBAR and RELAX spend their 3 on one draw).
Tables: toy (final loss, gradient variance at the initial q, normalised to REINFORCE, the paper's bound
for the RB variants), VAE (exact test -ELBO and -log p(x) after training, wall time), attention (exact
expected error, localisation accuracy). Plots: loss curves vs evaluations / steps / wall seconds and
the variance bars, written to ``--out``.
"""

from __future__ import annotations

from dataclasses import replace

import torch

from core.cli import RunOptions
from core.device import pick_device, torch_threads
from core.progress import progress
from core.results import ResultTable, mean_sd
from gradest.categorical import choose_k, top_k_split
from gradest.estimators import Exact
from gradest.plots import plot_curves, plot_variances
from gradest.registry import ESTIMATORS, make_estimator
from gradest.tasks import AttentionTask, DigitVAETask
from gradest.toy import ToyConfig, toy_gradient_variance, toy_problem, train_toy
from gradest.train import TrainConfig, fit
from gradest.variance import batch_gradient_draws, batch_gradient_stats, exact_gradient

__all__ = ["BUDGET", "reproduce"]

BUDGET = 3
"""Objective evaluations per row and step, for every estimator."""

TOY_ESTIMATORS = ESTIMATORS  # every registered estimator, in the registry's order
VAE_ESTIMATORS = (*TOY_ESTIMATORS, "rb-reinforce k=1", "rb-reinforce-ma k=1")
ATTENTION_ESTIMATORS = (
    "reinforce-ma",
    "reinforce-loo",
    "gumbel-soft",
    "gumbel-st",
    "rebar",
    "rb-reinforce-ma",
    "rb-gumbel-soft",
    "rb-gumbel-st",
    "rb-rebar",
)


def draws_for(name: str) -> int:
    """Draws per step that spend the budget: REBAR/RELAX evaluate f three times per draw."""
    return max(1, BUDGET // 3) if name.endswith(("rebar", "relax")) else BUDGET


def reproduce(options: RunOptions) -> list[ResultTable]:
    """Run the three experiments at ``options.scale``; return their tables (plots go to ``options.out``)."""
    with torch_threads(1):  # the models are tiny: one intra-op thread avoids oversubscription
        return [toy_table(options), vae_table(options), *attention_table(options)]


def toy_table(options: RunOptions) -> ResultTable:
    smoke = options.scale == "smoke"
    config = ToyConfig(steps=300 if smoke else 2000, replicates=8 if smoke else 32)
    repeats = 5000 if smoke else 100000
    logits, objective = toy_problem(config)
    probs = torch.softmax(logits, -1).unsqueeze(0)
    exact_value = float(probs[0] @ objective(torch.eye(config.num_categories).unsqueeze(1)).reshape(-1))
    table = ResultTable(
        "toy",
        title=f"Toy quadratic, K = {config.num_categories}, budget N = {BUDGET} evaluations per step",
        notes=(
            f"Final exact loss E_q f after {config.steps} SGD steps (lr {config.learning_rate}), mean ± sd over "
            f"{config.replicates} runs; the optimum is {float(objective(torch.eye(config.num_categories).unsqueeze(1)).min()):.4f}. "
            f"Gradient variance (trace of covariance of the logits gradient) at the initial q (q_max = "
            f"{float(probs.max()):.3f}) over {repeats} draws; moving-average baselines are set to their fixed point "
            f"E_q f = {exact_value:.4f}. `rb bound` = the paper's predicted variance ratio to the base estimator "
            f"at equal budget, (q(z not in C_k) / (N - k)) / (1 / N); `rb measured` = measured ratio."
        ),
    )
    curves, variances, measured = {}, {}, {}
    for name in progress(TOY_ESTIMATORS, desc="toy"):
        draws = draws_for(name)
        losses = train_toy(name, draws, config, seed=options.seed)
        stats = toy_gradient_variance(
            name, draws, logits, objective, repeats, seed=options.seed, baseline=exact_value
        )
        measured[name] = stats
        evaluations = config.num_categories if name == "exact" else BUDGET
        curves[name] = ([evaluations * step for step in range(losses.shape[0])], losses.mean(1).tolist())
        variances[name] = stats["variance"]
        row = {
            "estimator": name,
            "evals/step": evaluations,
            "final loss": mean_sd(losses[-1].tolist(), digits=4),
            "grad variance": stats["variance"],
            "variance / reinforce": stats["variance"] / measured["reinforce"]["variance"]
            if "reinforce" in measured
            else float("nan"),
            "bias norm": stats["bias"],
        }
        if name.startswith("rb-") and name[3:] in measured:
            k = choose_k(probs, draws)
            _, outside = top_k_split(probs, k)
            row["k"] = k
            row["rb bound"] = float(outside) / (draws - k) * draws
            row["rb measured"] = stats["variance"] / measured[name[3:]]["variance"]
        table.add(**row)
    plot_curves(
        curves,
        "objective evaluations",
        "exact loss E_q f (mean over runs)",
        "Toy quadratic: loss at equal evaluations",
        options.out / "toy_loss.png",
    )
    plot_variances(
        {k: v for k, v in variances.items() if k != "exact"},
        "Toy: gradient variance at the initial q",
        options.out / "toy_variance.png",
    )
    return table


def _learning_table(
    options: RunOptions,
    task,
    names: tuple[str, ...],
    base: TrainConfig,
    metrics: tuple[str, ...],
    title: str,
    notes: str,
    plot_name: str,
) -> tuple[ResultTable, dict]:
    device = pick_device(options.device)
    seeds = [options.seed] if options.scale == "smoke" else [options.seed + i for i in range(3)]
    table = ResultTable(plot_name, title=title, notes=notes)
    by_steps, by_time, models = {}, {}, {}
    for name in names:
        finals: dict[str, list[float]] = {metric: [] for metric in metrics}
        seconds = []
        for seed in seeds:
            estimator, _, k_text = name.partition(" k=")
            k = int(k_text) if k_text else "auto"
            config = replace(base, estimator=estimator, num_samples=draws_for(name), seed=seed, k=k)
            models[name], history = fit(task, config, device=device)
            for metric in metrics:
                finals[metric].append(history[-1][metric])
            seconds.append(history[-1]["train_seconds"])
            if seed == seeds[0]:
                by_steps[name] = ([row["step"] for row in history], [row[metrics[0]] for row in history])
                by_time[name] = (
                    [row["train_seconds"] for row in history],
                    [row[metrics[0]] for row in history],
                )
        row = {"estimator": name, "evals/step": task_evaluations(task, name)}
        row.update({metric: mean_sd(values, digits=3) for metric, values in finals.items()})
        row["train seconds"] = mean_sd(seconds, digits=1)
        table.add(**row)
    label = metrics[0].replace("_", " ")
    plot_curves(
        by_steps, "training step", label, f"{title}: vs steps", options.out / f"{plot_name}_steps.png"
    )
    plot_curves(
        by_time,
        "training wall seconds",
        label,
        f"{title}: vs wall time",
        options.out / f"{plot_name}_time.png",
    )
    return table, models


def task_evaluations(task, name: str) -> int:
    """Objective evaluations per row and step of estimator `name` on `task`."""
    if name == "exact":
        config = getattr(task, "config", None)
        return getattr(config, "num_categories", 0) or (config.canvas_size - 7) ** 2
    return BUDGET


def vae_table(options: RunOptions) -> ResultTable:
    smoke = options.scale == "smoke"
    task = DigitVAETask()
    base = TrainConfig(steps=600 if smoke else 10000, eval_every=100 if smoke else 500, learning_rate=3e-3)
    notes = (
        f"Categorical VAE, K = {task.config.num_categories}, on binarised sklearn digits "
        f"({task.split.train.shape[0]} train / {task.split.test.shape[0]} test images), {base.steps} Adam steps "
        f"(lr {base.learning_rate}, batch {base.batch_size}). Exact test -ELBO and -log p(x) in nats per image "
        f"by enumerating the K categories. Trivial baseline (independent Bernoulli pixels): -log p(x) = "
        f"{task.trivial_baseline():.3f}. Train seconds exclude evaluation (2 shared CPU cores, 1 thread). "
        f"`rb-*` rows use the paper's k for N = {BUDGET}; the `k=1` rows always sum the mode exactly."
    )
    table, _ = _learning_table(
        options,
        task,
        VAE_ESTIMATORS,
        base,
        ("test_neg_elbo", "test_nll"),
        "Categorical VAE on binarised digits",
        notes,
        "vae",
    )
    return table


def attention_table(options: RunOptions) -> tuple[ResultTable, ResultTable]:
    smoke = options.scale == "smoke"
    task = AttentionTask(seed=options.seed)
    names = ATTENTION_ESTIMATORS if smoke else ("exact", *ATTENTION_ESTIMATORS)
    base = TrainConfig(
        steps=400 if smoke else 3000, eval_every=100 if smoke else 250, learning_rate=3e-3, batch_size=32
    )
    positions = (task.config.canvas_size - 7) ** 2
    notes = (
        f"Hard attention over {positions} positions of a {task.config.canvas_size}x{task.config.canvas_size} canvas "
        f"(clutter {task.config.clutter}) with a learned 8x8 template; {base.steps} Adam steps (lr {base.learning_rate}, "
        f"batch {base.batch_size}). Exact expected squared error on the test canvases (all positions enumerated) "
        f"and argmax localisation accuracy (chance {1 / positions:.4f})."
    )
    table, models = _learning_table(
        options,
        task,
        names,
        base,
        ("test_expected_sq_error", "test_accuracy"),
        "Hard attention",
        notes,
        "attention",
    )
    return table, attention_gradient_table(options, task, models["rb-reinforce-ma"])


def attention_gradient_table(options: RunOptions, task: AttentionTask, model) -> ResultTable:
    """Variance and bias of every estimator's logits gradient at one trained locator, on test canvases."""
    smoke = options.scale == "smoke"
    rows, repeats = 8, 1000 if smoke else 5000
    canvases, glyphs, _ = (tensor[:rows] for tensor in task.test)
    with torch.no_grad():
        logits = model(canvases)
    exact = exact_gradient(logits, model.objective(canvases, glyphs))
    mean_value = float(Exact()(logits, model.objective(canvases, glyphs)).value) / rows
    q_max = float(torch.softmax(logits, -1).max(-1).values.mean())
    table = ResultTable(
        "attention_gradients",
        title=f"Hard attention: logits-gradient quality at the trained locator ({(task.config.canvas_size - 7) ** 2} positions)",
        notes=(
            f"Locator trained {options.scale} with rb-reinforce-ma; {rows} test canvases (mean q_max {q_max:.3f}), "
            f"{repeats} independent estimates per estimator at N = {BUDGET} evaluations. Variance: trace of the "
            "covariance per canvas; relative bias: ||mean - exact|| / ||exact|| (± its standard error). "
            f"REBAR/RELAX use their initial, untuned control variate; moving-average baselines sit at their fixed point "
            f"(mean E_q f = {mean_value:.2f})."
        ),
    )
    generator = torch.Generator().manual_seed(options.seed)
    for name in ("reinforce", *ATTENTION_ESTIMATORS, "rb-reinforce"):
        estimator = (
            make_estimator(name, tune=False) if name.endswith(("rebar", "relax")) else make_estimator(name)
        )
        core = getattr(estimator, "base", estimator)
        if getattr(core, "baseline", None) == "moving-average":
            core.baseline_value = mean_value  # the moving average's fixed point at these parameters
        draws = batch_gradient_draws(
            estimator,
            logits,
            lambda r: model.objective(canvases.repeat(r, 1, 1), glyphs.repeat(r, 1, 1)),
            repeats,
            num_samples=draws_for(name),
            generator=generator,
        )
        stats = batch_gradient_stats(draws, exact)
        table.add(
            estimator=name,
            variance=stats["variance"],
            **{"relative bias": f"{stats['relative_bias']:.3f} ± {stats['relative_bias_stderr']:.3f}"},
        )
    return table
