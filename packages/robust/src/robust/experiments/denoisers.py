"""``reproduce robust --only guided-denoiser`` / ``adaptive-jpeg`` / ``fortified`` / ``s2snet`` (robust issue 2).

Each table puts a defense in front of (or inside) a classifier on MNIST-5000 (or ``--data`` MNIST)
and reports its accuracy under the attack its paper ran and under the adaptive attack its critics
(or we) ran. L-inf PGD throughout, ``steps`` steps of 2.5 eps / steps with a random start.

- ``guided_denoiser``: pixel- and logits-guided (and at full scale feature-guided) denoisers in
  front of the reference LeNet; PGD transferred from the MLP (the paper's black-box setting),
  crafted on the bare LeNet (oblivious), white-box through denoiser + LeNet, and BPDA (identity
  backward through the denoiser). Athalye & Carlini: white-box PGD defeats it.
- ``adaptive_jpeg``: saliency-guided adaptive JPEG quantisation and uniform JPEG in front of the
  LeNet; oblivious PGD vs BPDA (identity backward), and DeepFool (minimal L2) crafted on the bare
  LeNet vs DeepFool through BPDA.
- ``fortified``: a LeNet with denoising autoencoders on two hidden layers, adversarially trained
  jointly, against PGD through the whole network, next to plain PGD adversarial training.
- ``s2snet``: a structure-to-signal autoencoder (unsupervised, then decoder fine-tuned through the
  classifier) in front of the LeNet; oblivious PGD, white-box PGD through the composite and BPDA.
"""

from __future__ import annotations

from pathlib import Path

from core.cli import RunOptions
from core.results import ResultTable
from robust.experiments.models import experiment_data, reference_models

__all__ = [
    "BUDGET",
    "FORTIFIED_BUDGET",
    "JPEG_BUDGET",
    "S2S_BUDGET",
    "adaptive_jpeg",
    "fortified",
    "guided_denoiser",
    "s2snet",
]

BUDGET = {
    "smoke": {
        "n_test": 200,
        "eps": (0.1, 0.2),
        "steps": 10,
        "strong_steps": 40,
        "denoiser_epochs": 5,
        "denoisers": ("pixel", "logits"),
    },
    "full": {
        "n_test": 1000,
        "eps": (0.1, 0.2, 0.3),
        "steps": 40,
        "strong_steps": 200,
        "denoiser_epochs": 30,
        "denoisers": ("pixel", "logits", "feature"),
    },
}
"""Test images, L-inf radii, PGD steps (and a stronger white-box attack's), denoiser epochs and guided losses."""


def _accuracy(model, x, y) -> float:
    from robust.models import accuracy

    return accuracy(model, x, y)


def _pgd(eps: float, steps: int, seed: int) -> dict[str, float]:
    return {"eps": eps, "alpha": 2.5 * eps / steps, "steps": steps, "seed": seed}


def guided_denoiser(options: RunOptions) -> list[ResultTable]:
    """Guided denoisers under transferred, oblivious, white-box and BPDA PGD; returns the table."""
    from torch import nn

    from core.device import pick_device
    from robust.attacks import BPDA, PGD
    from robust.defenses.guided_denoiser import DenoiserConfig, fit_guided_denoiser
    from robust.evaluate import attack_in_batches

    budget = BUDGET[options.scale]
    data = experiment_data(options)
    models, _ = reference_models(options, data, ("lenet", "mlp"))
    lenet, mlp = models["lenet"].cpu(), models["mlp"].cpu()
    x, y = data.x_test[: budget["n_test"]], data.y_test[: budget["n_test"]]
    denoisers = {}
    for loss in budget["denoisers"]:
        config = DenoiserConfig(loss=loss, epochs=budget["denoiser_epochs"], seed=options.seed)
        path = Path(options.out) / "models" / f"{data.name}-lenet-hgd-{loss}-seed{options.seed}.safetensors"
        denoiser, _ = fit_guided_denoiser(lenet, data, config, path, device=pick_device(options.device))
        denoisers[loss] = denoiser.cpu()
    table = ResultTable(
        "guided_denoiser",
        title=f"High-level guided denoiser in front of the LeNet, {len(x)} test images",
        data=data.describe(),
        notes=(
            f"Denoisers: U-Net (width 16) trained {budget['denoiser_epochs']} epochs on PGD images of the "
            "LeNet at eps 0.1/0.2/0.3 with the pixel (|D(x') - x|_1) or logits-guided (|f(D(x')) - f(x)|_1) "
            f"loss. Attacks: L-inf PGD, {budget['steps']} steps; from_mlp: crafted on the MLP (transfer); "
            "oblivious: on the bare LeNet; white_box: through denoiser + LeNet (_strong: "
            f"{budget['strong_steps']} steps); bpda: identity backward through the denoiser. Paper (Liao et al.): the LGD defends transferred attacks; Athalye & Carlini: "
            "white-box PGD through it breaks it."
        ),
    )
    for eps in budget["eps"]:
        pgd = _pgd(eps, budget["steps"], options.seed)
        from_mlp = attack_in_batches(PGD(mlp, **pgd), x, y)[0]
        oblivious = attack_in_batches(PGD(lenet, **pgd), x, y)[0]
        strong = _pgd(eps, budget["strong_steps"], options.seed)
        strong_bare = attack_in_batches(PGD(lenet, **strong), x, y)[0]
        table.add(
            eps=eps,
            denoiser="none",
            clean=_accuracy(lenet, x, y),
            pgd_from_mlp=_accuracy(lenet, from_mlp, y),
            pgd_oblivious=_accuracy(lenet, oblivious, y),
            pgd_white_box=_accuracy(lenet, oblivious, y),
            pgd_white_box_strong=_accuracy(lenet, strong_bare, y),
            bpda=float("nan"),
        )
        for loss, denoiser in denoisers.items():
            defended = nn.Sequential(denoiser, lenet)
            white_box = attack_in_batches(PGD(defended, **pgd), x, y)[0]
            white_box_strong = attack_in_batches(PGD(defended, **strong), x, y)[0]
            bpda = attack_in_batches(PGD(nn.Sequential(BPDA(denoiser), lenet), **pgd), x, y)[0]
            table.add(
                eps=eps,
                denoiser=loss,
                clean=_accuracy(defended, x, y),
                pgd_from_mlp=_accuracy(defended, from_mlp, y),
                pgd_oblivious=_accuracy(defended, oblivious, y),
                pgd_white_box=_accuracy(defended, white_box, y),
                pgd_white_box_strong=_accuracy(defended, white_box_strong, y),
                bpda=_accuracy(defended, bpda, y),
            )
    options.publish(table)
    return [table]


JPEG_BUDGET = {
    "smoke": {"n_test": 200, "eps": (0.1, 0.2, 0.3), "steps": 20, "deepfool_steps": 50},
    "full": {"n_test": 1000, "eps": (0.1, 0.2, 0.3), "steps": 100, "deepfool_steps": 100},
}
"""Test images, L-inf radii, PGD steps and DeepFool iterations of ``--only adaptive-jpeg``."""

JPEG_QUALITIES = {"jpeg q10": (10,), "jpeg q50": (50,), "jpeg q90": (90,), "adaptive 10/50/90": (10, 50, 90)}
"""The purifiers compared: plain JPEG at three qualities and the saliency-guided three-level scheme."""


def adaptive_jpeg(options: RunOptions) -> list[ResultTable]:
    """Plain and saliency-guided adaptive JPEG under oblivious and BPDA PGD (L-inf) and DeepFool (minimal
    L2, one of the attacks Prakash et al. ran); returns the two tables."""
    import torch
    from torch import nn

    from robust.attacks import BPDA, PGD, DeepFool
    from robust.defenses.adaptive_jpeg import AdaptiveJPEG
    from robust.evaluate import attack_in_batches

    budget = JPEG_BUDGET[options.scale]
    data = experiment_data(options)
    models, _ = reference_models(options, data, ("lenet",))
    lenet = models["lenet"].cpu()
    x, y = data.x_test[: budget["n_test"]], data.y_test[: budget["n_test"]]
    purifiers = {name: AdaptiveJPEG(q) for name, q in JPEG_QUALITIES.items()}
    table = ResultTable(
        "adaptive_jpeg",
        title=f"Saliency-guided adaptive JPEG vs plain JPEG in front of the LeNet, {len(x)} test images",
        data=data.describe(),
        notes=(
            f"8x8 DCT tiles, IJG quality scaling; adaptive: spectral-residual saliency picks quality 10/50/90 per "
            f"tile. L-inf PGD, {budget['steps']} steps; oblivious: crafted on the bare LeNet; bpda: through the "
            "purifier with an identity backward. distortion: mean |g(x) - x| on clean images (x 255). Paper "
            "(Prakash et al.): adaptive quantisation defends better than plain JPEG at less loss of image quality."
        ),
    )
    for eps in budget["eps"]:
        pgd = _pgd(eps, budget["steps"], options.seed)
        oblivious = attack_in_batches(PGD(lenet, **pgd), x, y)[0]
        table.add(
            eps=eps,
            defense="none",
            distortion=0.0,
            clean=_accuracy(lenet, x, y),
            pgd_oblivious=_accuracy(lenet, oblivious, y),
            bpda=_accuracy(lenet, oblivious, y),
        )
        for name, purifier in purifiers.items():
            defended = nn.Sequential(purifier, lenet)
            bpda = attack_in_batches(PGD(nn.Sequential(BPDA(purifier), lenet), **pgd), x, y)[0]
            with torch.no_grad():
                distortion = float((purifier(x) - x).abs().mean()) * 255
            table.add(
                eps=eps,
                defense=name,
                distortion=distortion,
                clean=_accuracy(defended, x, y),
                pgd_oblivious=_accuracy(defended, oblivious, y),
                bpda=_accuracy(defended, bpda, y),
            )
    options.publish(table)
    deepfool = ResultTable(
        "adaptive_jpeg_deepfool",
        title=f"Adaptive and plain JPEG against DeepFool, oblivious and through BPDA, {len(x)} test images",
        data=data.describe(),
        notes=(
            f"DeepFool (L2, {budget['deepfool_steps']} iterations, overshoot 0.02); oblivious: crafted on the bare "
            "LeNet, so it stops just past the bare LeNet's boundary; bpda: DeepFool on purifier + LeNet with an "
            "identity backward, iterating until the defended LeNet is fooled. l2: median L2 norm of the perturbation."
        ),
    )

    def median_l2(x_adv) -> float:
        return float((x_adv - x).flatten(1).norm(dim=1).median())

    oblivious = attack_in_batches(DeepFool(lenet, steps=budget["deepfool_steps"]), x, y)[0]
    deepfool.add(
        defense="none",
        clean=_accuracy(lenet, x, y),
        deepfool_oblivious=_accuracy(lenet, oblivious, y),
        oblivious_l2=median_l2(oblivious),
        deepfool_bpda=_accuracy(lenet, oblivious, y),
        bpda_l2=median_l2(oblivious),
    )
    for name, purifier in purifiers.items():
        defended = nn.Sequential(purifier, lenet)
        attack = DeepFool(nn.Sequential(BPDA(purifier), lenet), steps=budget["deepfool_steps"])
        adapted = attack_in_batches(attack, x, y)[0]
        deepfool.add(
            defense=name,
            clean=_accuracy(defended, x, y),
            deepfool_oblivious=_accuracy(defended, oblivious, y),
            oblivious_l2=median_l2(oblivious),
            deepfool_bpda=_accuracy(defended, adapted, y),
            bpda_l2=median_l2(adapted),
        )
    options.publish(deepfool)
    return [table, deepfool]


FORTIFIED_BUDGET = {
    "smoke": {
        "n_test": 300,
        "eps": (0.05, 0.1, 0.2),
        "train_eps": 0.1,
        "train_steps": 10,
        "steps": 20,
        "restarts": 3,
    },
    "full": {
        "n_test": 1000,
        "eps": (0.1, 0.2, 0.3),
        "train_eps": 0.3,
        "train_steps": 40,
        "steps": 100,
        "restarts": 5,
    },
}
"""Test images, test radii, training PGD (eps, steps; alpha 2.5 eps / steps) and the white-box test PGD."""


def _hidden_ratio(net, x, x_adv) -> float:
    """Mean over fortified layers of ``|g(h_adv) - h| / |h_adv - h|`` (below 1: the autoencoder pulls
    adversarial hidden states back towards the clean ones)."""
    import torch

    with torch.no_grad():
        _, clean = net.states(x)
        _, adversarial = net.states(x_adv)
        ratios = [
            float(
                (g_adv - h).flatten(1).norm(dim=1).mean()
                / (h_adv - h).flatten(1).norm(dim=1).mean().clamp_min(1e-12)
            )
            for (h, _), (h_adv, g_adv) in zip(clean, adversarial, strict=True)
        ]
    return sum(ratios) / len(ratios)


def fortified(options: RunOptions) -> list[ResultTable]:
    """Fortified LeNets (clean / adversarial hidden states) vs PGD-AT under white-box PGD; returns the table."""
    from core.device import pick_device
    from robust.attacks import FGSM, PGD
    from robust.defenses.fortified import FortifiedConfig, fit_fortified
    from robust.evaluate import attack_in_batches
    from robust.experiments.defended import defended_model

    budget = FORTIFIED_BUDGET[options.scale]
    data = experiment_data(options)
    models, _ = reference_models(options, data, ("lenet",))
    eps_train, steps = budget["train_eps"], budget["train_steps"]
    training = {"eps": eps_train, "alpha": 2.5 * eps_train / steps, "steps": steps}
    at, _, at_config = defended_model(options, data, "lenet", f"pgdat{eps_train:g}", recipe="pgd", **training)
    nets = {"clean": models["lenet"].cpu(), "PGD AT": at.cpu()}
    for label, adversarial in (("fortified (clean states)", False), ("fortified + AT", True)):
        # adv_weight 0.1: at 1 the matched-state term slows the joint training (MNIST-5000 LeNet, 2 epochs:
        # clean accuracy 0.77 vs 0.89)
        config = FortifiedConfig(
            train=at_config.train, adversarial=adversarial, adv_weight=0.1 if adversarial else 1.0, **training
        )
        name = "fortified-at" if adversarial else "fortified"
        path = (
            Path(options.out)
            / "models"
            / f"{data.name}-lenet-{name}{eps_train:g}-seed{options.seed}.safetensors"
        )
        nets[label] = fit_fortified(data, config, path, device=pick_device(options.device))[0].cpu()
    x, y = data.x_test[: budget["n_test"]], data.y_test[: budget["n_test"]]
    table = ResultTable(
        "fortified",
        title=f"Fortified networks (DAEs after the LeNet's first pooling and first hidden layer), {len(x)} test images",
        data=data.describe(),
        notes=(
            f"Trained {at_config.train.epochs} epochs; AT: L-inf PGD eps {eps_train:g}, {steps} steps; fortified: "
            "residual DAEs, matched-state weight 0.1. Test: white-box "
            f"FGSM and L-inf PGD through the whole network ({budget['steps']} steps, best of {budget['restarts']} "
            "restarts). hidden_ratio: |g(h_adv) - h| / |h_adv - h| at the fortified layers under that PGD. Paper "
            "(Lamb et al., as the notes put it): fortification improves on adversarial training, but only marginally."
        ),
    )
    for eps in budget["eps"]:
        pgd = {**_pgd(eps, budget["steps"], options.seed), "restarts": budget["restarts"]}
        for label, net in nets.items():
            x_pgd = attack_in_batches(PGD(net, **pgd), x, y)[0]
            x_fgsm = attack_in_batches(FGSM(net, eps=eps), x, y)[0]
            table.add(
                eps=eps,
                model=label,
                clean=_accuracy(net, x, y),
                fgsm=_accuracy(net, x_fgsm, y),
                pgd=_accuracy(net, x_pgd, y),
                hidden_ratio=_hidden_ratio(net, x, x_pgd) if hasattr(net, "states") else float("nan"),
            )
    options.publish(table)
    return [table]


S2S_BUDGET = {
    "smoke": {
        "n_test": 200,
        "eps": (0.1, 0.2),
        "steps": 20,
        "pretrain": 5,
        "finetune": 3,
        "gradient_images": 50,
    },
    "full": {
        "n_test": 1000,
        "eps": (0.1, 0.2, 0.3),
        "steps": 100,
        "pretrain": 30,
        "finetune": 10,
        "gradient_images": 500,
    },
}
"""Test images, L-inf radii, PGD steps, the two phases' epochs and the images of the gradient statistic."""


def _class_gradient_cosine(model, x) -> float:
    """Mean cosine between the input gradients of two different logits (over pairs of classes and
    images): near 1 when the gradients are not class-specific (Folz et al.'s argument)."""
    import torch

    from robust.guard import evaluation_mode

    with evaluation_mode(model):
        x = x.clone().requires_grad_(True)
        logits = model(x)
        k = logits.shape[1]
        grads = torch.stack(
            [torch.autograd.grad(logits[:, j].sum(), x, retain_graph=True)[0].flatten(1) for j in range(k)], 1
        )
    unit = grads / grads.norm(dim=2, keepdim=True).clamp_min(1e-12)
    cosine = unit @ unit.transpose(1, 2)  # (n, k, k)
    off = ~torch.eye(k, dtype=torch.bool)
    return float(cosine[:, off].mean())


def s2snet(options: RunOptions) -> list[ResultTable]:
    """An S2SNet in front of the LeNet under oblivious, white-box and BPDA PGD; returns the table."""
    from torch import nn

    from core.device import pick_device
    from robust.attacks import BPDA, PGD
    from robust.defenses.s2snet import S2SConfig, fit_s2snet
    from robust.evaluate import attack_in_batches

    budget = S2S_BUDGET[options.scale]
    data = experiment_data(options)
    models, _ = reference_models(options, data, ("lenet",))
    lenet = models["lenet"].cpu()
    config = S2SConfig(
        pretrain_epochs=budget["pretrain"], finetune_epochs=budget["finetune"], seed=options.seed
    )
    path = Path(options.out) / "models" / f"{data.name}-lenet-s2s-seed{options.seed}.safetensors"
    autoencoder, history = fit_s2snet(lenet, data, config, path, device=pick_device(options.device))
    autoencoder = autoencoder.cpu()
    defended = nn.Sequential(autoencoder, lenet)
    x, y = data.x_test[: budget["n_test"]], data.y_test[: budget["n_test"]]
    mse = [row["test_mse"] for row in history if row.get("phase") == 1]
    table = ResultTable(
        "s2snet",
        title=f"S2SNet (conv autoencoder, decoder fine-tuned through the LeNet) in front of the LeNet, {len(x)} test images",
        data=data.describe(),
        notes=(
            f"Phase 1: {budget['pretrain']} epochs of reconstruction (test MSE {mse[-1]:.4f}); phase 2: "
            f"{budget['finetune']} epochs of the decoder alone on the LeNet's cross-entropy. L-inf PGD, "
            f"{budget['steps']} steps; oblivious: crafted on the bare LeNet; white_box: through autoencoder + LeNet; "
            "bpda: identity backward through the autoencoder. class_gradient_cosine: mean cosine between input "
            f"gradients of different logits on {budget['gradient_images']} test images (higher: less class-specific). "
            "Paper (Folz et al.): gradients through the S2SNet are less class-specific; no adaptive attack was run."
        ),
    )
    cosines = {
        "none": _class_gradient_cosine(lenet, x[: budget["gradient_images"]]),
        "s2snet": _class_gradient_cosine(defended, x[: budget["gradient_images"]]),
    }
    for eps in budget["eps"]:
        pgd = _pgd(eps, budget["steps"], options.seed)
        oblivious = attack_in_batches(PGD(lenet, **pgd), x, y)[0]
        white_box = attack_in_batches(PGD(defended, **pgd), x, y)[0]
        bpda = attack_in_batches(PGD(nn.Sequential(BPDA(autoencoder), lenet), **pgd), x, y)[0]
        for name, model in (("none", lenet), ("s2snet", defended)):
            table.add(
                eps=eps,
                defense=name,
                clean=_accuracy(model, x, y),
                pgd_oblivious=_accuracy(model, oblivious, y),
                pgd_white_box=_accuracy(model, white_box if name == "s2snet" else oblivious, y),
                bpda=_accuracy(model, bpda, y) if name == "s2snet" else float("nan"),
                class_gradient_cosine=cosines[name],
            )
    options.publish(table)
    return [table]
