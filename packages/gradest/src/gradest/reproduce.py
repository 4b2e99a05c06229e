"""Headline experiment: every estimator on the paper's toy, a categorical VAE on digits, and hard attention.

``uv run reproduce gradest --scale smoke`` (minutes on 2 CPU cores) or ``--scale full``; three sub-experiments,
``--only toy``, ``--only vae``, ``--only attention`` run one. All estimators get the same number of objective
evaluations per step (N = 3; REBAR and RELAX spend their 3 on one draw). Each table is published
(`RunOptions.publish`) as soon as it is computed, with the data it used.
Tables: toy (final loss, gradient variance at the initial q, normalised to REINFORCE, the paper's bound
for the RB variants), VAE (exact test -ELBO and -log p(x) after training, wall time), attention (exact
expected error, localisation accuracy). Plots: loss curves vs evaluations / steps / wall seconds and
the variance bars, written to ``--out``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import torch

from core.cli import RunOptions
from core.device import pick_device, torch_threads
from core.errors import InputError
from core.progress import progress
from core.results import ResultTable, mean_sd
from gradest.categorical import choose_k, top_k_split
from gradest.config import ToyConfig, TrainConfig
from gradest.estimators import Exact
from gradest.plots import plot_curves, plot_variances
from gradest.registry import ESTIMATORS, make_estimator
from gradest.tasks import AttentionTask, DigitVAETask
from gradest.toy import toy_exact_value, toy_gradient_variance, toy_problem, train_toy
from gradest.train import fit
from gradest.variance import batch_gradient_draws, batch_gradient_stats, exact_gradient

__all__ = ["BUDGET", "EXPERIMENTS", "attention", "estimator_options", "toy", "vae"]

DIGITS = (
    "sklearn.datasets.load_digits (UCI optical digits, 1,797 8x8 images, CC BY 4.0; ships in the scikit-learn "
    "wheel), binarised at grey level > 8 of 16, 80/20 train/test split (seed 0)"
)

BUDGET = 3
"""Objective evaluations per row and step, for every estimator."""

WARMUP_CALLS, WARMUP_COPIES = 100, 4
"""Calls (and copies of the 8 test canvases per call) that let stateful estimators settle before measuring."""

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


NOISY_BASES = ("gumbel-soft", "gumbel-st", "rebar", "relax")
"""Bases with Gumbel noise: their RB form needs an explicit k (`gradest.rao_blackwell`)."""


def estimator_options(name: str) -> dict[str, Any]:
    """The options each named estimator runs with here: the paper's k for the REINFORCE family,
    k = 1 (the mode summed) for the Gumbel/REBAR/RELAX compositions when the budget allows a draw
    outside it, else k = 0; ``"rb-reinforce k=1"`` style names force a k."""
    estimator, _, k_text = name.partition(" k=")
    if k_text:
        return {"k": int(k_text)}
    if estimator.startswith("rb-") and estimator[3:] in NOISY_BASES:
        return {"k": 1 if draws_for(estimator) >= 2 else 0}
    return {}


def _no_data_option(options: RunOptions) -> None:
    if options.data is not None:
        raise InputError(
            "gradest's experiments use the digits inside scikit-learn and simulated problems; --data does not apply",
            item=str(options.data),
        )


def _published(options: RunOptions, *tables: ResultTable) -> list[ResultTable]:
    for table in tables:
        options.publish(table)
    return list(tables)


def toy(options: RunOptions) -> list[ResultTable]:
    """The paper's toy quadratic: learning curves and gradient variance of every estimator."""
    _no_data_option(options)
    with torch_threads(1):  # tiny tensors: one intra-op thread avoids oversubscription
        return _published(options, toy_table(options))


def vae(options: RunOptions) -> list[ResultTable]:
    """The categorical VAE on binarised digits, trained with every estimator."""
    _no_data_option(options)
    with torch_threads(1):
        return _published(options, vae_table(options))


def attention(options: RunOptions) -> list[ResultTable]:
    """Hard attention over canvas positions: training, then gradient quality at the trained locator."""
    _no_data_option(options)
    with torch_threads(1):
        training, models, task = attention_table(options)
        options.publish(training)
        gradients = attention_gradient_table(options, task, models["rb-reinforce-ma"])
        options.publish(gradients)
        return [training, gradients]


EXPERIMENTS = {"toy": toy, "vae": vae, "attention": attention}
"""The sub-experiments `reproduce gradest --only NAME` runs (the ``core.reproduce`` entry point)."""


def toy_table(options: RunOptions) -> ResultTable:
    smoke = options.scale == "smoke"
    config = ToyConfig(steps=300 if smoke else 2000, replicates=8 if smoke else 32)
    repeats = 5000 if smoke else 100000
    logits, objective = toy_problem(config)
    probs = torch.softmax(logits, -1).unsqueeze(0)
    optimum = float(objective(torch.eye(config.num_categories).unsqueeze(1)).min())
    table = ResultTable(
        "toy",
        title=f"Toy quadratic, K = {config.num_categories}, budget N = {BUDGET} evaluations per step",
        notes=(
            f"Final exact loss E_q f after {config.steps} SGD steps (lr {config.learning_rate}), mean ± sd over "
            f"{config.replicates} runs; the optimum is {optimum:.4f}. Gradient variance (trace of covariance of the "
            f"logits gradient) at the initial q (q_max = {float(probs.max()):.3f}, E_q f = "
            f"{toy_exact_value(config):.4f}) over {repeats} draws, every estimator run as in training: its "
            "moving-average baseline or REBAR/RELAX control variate evolves over 100 warm-up calls of 100 rows and "
            "keeps evolving while the draws are taken. `exact variance`: by enumerating every draw at the final "
            "state (REINFORCE family). `rb bound` = the paper's predicted variance ratio to the base estimator at "
            "equal budget, (q(z not in C_k) / (N - k)) / (1 / N), which covers the REINFORCE family only; "
            "`rb measured` / `rb exact` = measured / enumerated ratio. RB-Gumbel uses k = 1 and RB-REBAR/RELAX "
            "k = 0 (one draw): k = 'auto' is refused for bases with Gumbel noise."
        ),
        data=(
            f"simulated: the toy quadratic f(z) = ||z - p||^2, K = {config.num_categories}, p evenly spaced in "
            f"[{config.target_low}, {config.target_high}], initial logit {config.initial_logit} on category 0"
        ),
    )
    curves, variances, measured = {}, {}, {}
    for name in progress(TOY_ESTIMATORS, desc="toy"):
        draws, extra = draws_for(name), estimator_options(name)
        losses = train_toy(name, draws, config, seed=options.seed, **extra)
        stats = toy_gradient_variance(name, draws, logits, objective, repeats, seed=options.seed, **extra)
        measured[name] = stats
        evaluations = config.num_categories if name == "exact" else BUDGET
        curves[name] = ([evaluations * step for step in range(losses.shape[0])], losses.mean(1).tolist())
        variances[name] = stats["variance"]
        row = {
            "estimator": name,
            "evals/step": evaluations,
            "final loss": mean_sd(losses[-1].tolist(), digits=4),
            "grad variance": stats["variance"],
            "exact variance": stats["exact_variance"],
            "variance / reinforce": stats["variance"] / measured["reinforce"]["variance"]
            if "reinforce" in measured
            else None,
            "bias norm": stats["bias"],
        }
        if name.startswith("rb-") and name[3:] in measured:
            k = extra.get("k", "auto")
            k = choose_k(probs, draws) if k == "auto" else k
            _, outside = top_k_split(probs, k)
            base = measured[name[3:]]
            row["k"] = k
            row["rb bound"] = float(outside) / (draws - k) * draws
            row["rb measured"] = stats["variance"] / base["variance"]
            if stats["exact_variance"] is not None and base["exact_variance"]:
                row["rb exact"] = stats["exact_variance"] / base["exact_variance"]
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
    data: str,
) -> tuple[ResultTable, dict]:
    device = pick_device(options.device)
    seeds = [options.seed] if options.scale == "smoke" else [options.seed + i for i in range(3)]
    table = ResultTable(plot_name, title=title, notes=f"{notes} Device: {device}.", data=data)
    by_steps, by_time, models = {}, {}, {}
    for name in names:
        finals: dict[str, list[float]] = {metric: [] for metric in metrics}
        seconds = []
        for seed in seeds:
            estimator = name.partition(" k=")[0]
            k = estimator_options(name).get("k", "auto")
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
        if "k" in estimator_options(name):
            row["k"] = estimator_options(name)["k"]
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
        f"`rb-reinforce*` rows use the paper's k for N = {BUDGET} (the `k=1` rows always sum the mode exactly); "
        "the Gumbel/REBAR/RELAX compositions use the k in the k column."
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
        DIGITS,
    )
    return table


def attention_table(options: RunOptions) -> tuple[ResultTable, dict, AttentionTask]:
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
        _canvas_data(task, options.seed),
    )
    return table, models, task


def _canvas_data(task: AttentionTask, seed: int) -> str:
    size = task.config.canvas_size
    return (
        f"{size}x{size} canvases made from {DIGITS}: one digit per canvas at a uniform position, "
        f"background clutter {task.config.clutter} (seed {seed})"
    )


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
            "covariance per canvas; relative bias: ||mean - exact|| / ||exact|| and its standard error. Every "
            f"estimator runs as in training: {WARMUP_CALLS} warm-up calls on the 8 canvases (x{WARMUP_COPIES}) let its "
            "moving-average baseline and REBAR/RELAX control variate evolve before the draws "
            f"(mean E_q f = {mean_value:.2f})."
        ),
        data=_canvas_data(task, options.seed),
    )
    generator = torch.Generator().manual_seed(options.seed)
    objective = lambda r: model.objective(canvases.repeat(r, 1, 1), glyphs.repeat(r, 1, 1))  # noqa: E731
    for name in ("reinforce", *ATTENTION_ESTIMATORS, "rb-reinforce"):
        estimator = make_estimator(name, **estimator_options(name))
        warm = logits.repeat(WARMUP_COPIES, 1)
        for _ in range(WARMUP_CALLS):  # the state evolves over calls, as in training
            estimator(warm, objective(WARMUP_COPIES), num_samples=draws_for(name), generator=generator)
        draws = batch_gradient_draws(
            estimator,
            logits,
            objective,
            repeats,
            num_samples=draws_for(name),
            generator=generator,
        )
        stats = batch_gradient_stats(draws, exact)
        table.add(
            estimator=name,
            variance=stats["variance"],
            **{"relative bias": stats["relative_bias"], "relative bias se": stats["relative_bias_stderr"]},
        )
    return table
