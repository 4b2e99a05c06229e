"""``reproduce robust --only abs``: analysis by synthesis (Schott et al. 2019) against L0, L2 and L-inf attacks.

Ten MLP VAEs (one per MNIST class: `genmodels`' VAE trained by `genmodels.fit_vae`, through
`robust.defenses.abs_model.fit_abs_genmodels`) make the ABS classifier:
the best of ``samples`` prior latents per class, then ``steps`` Adam steps on the ELBO bound; the
class scores are the optimised bounds. The baseline is the clean reference CNN
(`reference_models`' ``"cnn"``). Both are attacked on the first ``n_test`` test images with L-inf PGD,
L2 PGD and the greedy L0 attack (`L0Greedy`), all white box: against ABS the gradient is taken
through the latent optimisation, by Danskin's theorem at the optimised latents (the default) and,
for one L-inf budget, through the unrolled Adam steps. A transfer row (PGD crafted on the CNN) is
added for ABS.

Table ``abs``: robust accuracy of each model under each attack and budget, and the mean size of the
perturbations (L-inf, L2, L0 pixels changed).
"""

from __future__ import annotations

from pathlib import Path

from core.cli import RunOptions
from core.results import ResultTable
from robust.experiments.models import experiment_data, reference_models

__all__ = ["BUDGET", "PAPER_FINDING", "VAE_BATCH", "abs_model"]

BUDGET = {
    "smoke": {
        "n_test": 100,
        "epochs": 10,
        "samples": 1000,
        "latent_steps": 20,
        "steps": 10,
        "linf": (0.1, 0.2, 0.3),
        "l2": (1.0, 2.0),
        "l0": (10, 20),
        "unrolled_eps": 0.2,
    },
    "full": {
        "n_test": 500,
        "epochs": 50,
        "samples": 8000,
        "latent_steps": 50,
        "steps": 50,
        "linf": (0.1, 0.2, 0.3),
        "l2": (1.0, 1.5, 2.0, 3.0),
        "l0": (10, 20, 40),
        "unrolled_eps": 0.3,
    },
}
"""Test images, VAE epochs, ABS random-search samples and latent Adam steps, attack steps and budgets."""

VAE_BATCH = 32
"""Minibatch of each class's VAE (`fit_abs_genmodels` trains the classes one after the other)."""

PAPER_FINDING = (
    "ABS outperforms state-of-the-art adversarial training (Madry et al.) and its adversarial examples look "
    "meaningful to humans"
)
"""Schott et al.'s finding as the workspace's summary states it (no numbers are given)."""


def abs_model(options: RunOptions) -> list[ResultTable]:
    """Train (or resume) the VAEs, build ABS, attack it and the CNN; returns the published table."""
    import torch
    from torch import Tensor

    from core.device import pick_device
    from robust.attacks.norms import l2_norm, linf_norm
    from robust.defenses.abs_model import ABS, ABSConfig, L0Greedy, MarginPGD, fit_abs_genmodels
    from robust.evaluate import attack_in_batches

    budget = BUDGET[options.scale]
    data = experiment_data(options)
    models, _ = reference_models(options, data, ("cnn",))
    cnn = models["cnn"].cpu()
    config = ABSConfig(
        image_shape=tuple(data.image_shape),
        num_classes=data.num_classes,
        data=data.name,
        epochs=budget["epochs"],
        batch_size=VAE_BATCH,
        seed=options.seed,
    )
    folder = Path(options.out) / "models" / f"{data.name}-abs-genmodels-vaes-b{VAE_BATCH}-seed{options.seed}"
    decoders, history = fit_abs_genmodels(data, config, folder, device=pick_device(options.device))
    decoders = [decoder.cpu() for decoder in decoders]
    mean_elbo = sum(row["elbo"] for row in history) / len(history)
    settings = {"sigma_x": config.sigma_x, "samples": budget["samples"], "steps": budget["latent_steps"]}
    danskin = ABS(decoders, config.latent, tuple(data.image_shape), seed=options.seed, **settings)
    unrolled = ABS(
        decoders, config.latent, tuple(data.image_shape), gradient="unrolled", seed=options.seed, **settings
    )
    n, steps = budget["n_test"], budget["steps"]
    x, y = data.x_test[:n], data.y_test[:n]
    table = ResultTable(
        "abs",
        title=f"ABS vs the clean CNN on {data.name} ({n} test images; white-box attacks, {steps} steps)",
        data=data.describe(),
        notes=(
            f"ABS: 10 genmodels MLP VAEs (genmodels.fit_vae, one per class; latent {config.latent}, hidden "
            f"{config.hidden}, Gaussian likelihood sigma {config.sigma_x}, {budget['epochs']} epochs of batch {VAE_BATCH}, "
            f"mean final training ELBO {mean_elbo:.1f} nats per image); best of "
            f"{budget['samples']} prior latents, then {budget['latent_steps']} Adam steps. PGD alpha 2.5 eps / steps. "
            f"All attacks ascend the logit margin (cross-entropy saturates on ABS's bounds). L0: greedy, 2 pixels per step; "
            f"the worst case counts an image as robust only if every attack at that budget failed on it. Paper (summary, no numbers): {PAPER_FINDING}."
        ),
    )

    def row(model_name: str, attack_name: str, norm: str, eps: float, model, x_adv) -> Tensor:
        with torch.no_grad():
            predicted = torch.cat([model(x_adv[s : s + 50]).argmax(1) for s in range(0, n, 50)])
        delta = x_adv - x
        table.add(
            model=model_name,
            attack=attack_name,
            norm=norm,
            eps=eps,
            accuracy=float((predicted == y).float().mean()),
            linf=float(linf_norm(delta).mean()),
            l2=float(l2_norm(delta).mean()),
            l0=float((delta.flatten(1).abs() > 1e-6).sum(1).float().mean()),
        )
        return predicted == y

    def run(attack):
        return attack_in_batches(attack, x, y, batch_size=50)[0]

    worst: dict[tuple[str, float], Tensor] = {}

    def attacked(name: str, label: str, norm: str, eps: float, model, x_adv) -> None:
        """Record a row and fold the example's result into the worst case over attacks."""
        correct = row(name, label, norm, eps, model, x_adv)
        key = (norm, eps)
        worst[key] = correct if key not in worst else worst[key] & correct

    for name, model in (("cnn", cnn), ("ABS", danskin)):
        worst.clear()
        row(name, "none", "-", 0.0, model, x)
        for eps in budget["linf"]:
            attacked(
                name,
                "PGD (margin loss)",
                "linf",
                eps,
                model,
                run(MarginPGD(model, eps=eps, alpha=2.5 * eps / steps, steps=steps, seed=options.seed)),
            )
            if name == "ABS":
                attacked(
                    name,
                    "PGD transferred from the cnn",
                    "linf",
                    eps,
                    model,
                    run(MarginPGD(cnn, eps=eps, alpha=2.5 * eps / steps, steps=steps, seed=options.seed)),
                )
                if eps == budget["unrolled_eps"]:
                    through = MarginPGD(
                        unrolled, eps=eps, alpha=2.5 * eps / steps, steps=steps, seed=options.seed
                    )
                    attacked(
                        name, "PGD through the unrolled latent optimisation", "linf", eps, model, run(through)
                    )
        for eps in budget["l2"]:
            attacked(
                name,
                "PGD (margin loss)",
                "l2",
                eps,
                model,
                run(
                    MarginPGD(
                        model, eps=eps, alpha=2.5 * eps / steps, steps=steps, norm="l2", seed=options.seed
                    )
                ),
            )
        for pixels in budget["l0"]:
            attacked(
                name,
                "L0 greedy",
                "l0",
                float(pixels),
                model,
                run(L0Greedy(model, pixels=pixels, pixels_per_step=2)),
            )
        if name == "ABS":
            for (norm, eps), correct in worst.items():
                table.add(
                    model=name,
                    attack="worst case over the attacks above",
                    norm=norm,
                    eps=eps,
                    accuracy=float(correct.float().mean()),
                )
        options.publish(table)
    return [table]
