"""``reproduce robust``: the package's experiments, one sub-experiment per part of the package.

``uv run reproduce robust --only attacks --scale smoke`` runs the attack library's experiment
(`robust.experiments.attacks`); ``--only blackbox`` the query-limited NES vs low-frequency NES
curves, the boundary attack vs LF-BA and NES's three threat models (`robust.experiments.blackbox`); ``--only universal`` the
universal perturbations' fooling rates (`robust.experiments.universal`); ``--only spatial`` the
rotation/translation adversaries, stAdv and ADef (`robust.experiments.spatial`); ``--only perceptual`` the
perceptually-aware PGD (`robust.experiments.perceptual`); ``--only universal-training`` universal and
fictitious-play adversarial training against fresh universal perturbations
(`robust.experiments.universal_training`); ``--only second-order`` the second-order attack against
a PGD-trained and a noise-defended model (`robust.experiments.second_order`); ``--only physical``
adversarial lighting and geometry through the differentiable renderer (`robust.experiments.physical`);
``--only transfer`` I-FGSM vs DI-FGSM transfer on the whole test split over resize rates
(`robust.experiments.transfer`). ``--only defenses`` clean / PGD / IBP-verified
accuracy of clean, PGD-AT, ALP and IBP training, ``--only pixeldp`` PixelDP's certified accuracy
against L2 radius (`robust.experiments.defenses`); ``--only cost-sensitive`` Zhang & Evans' cost-sensitive
certified training against plain IBP (`robust.experiments.cost_sensitive`); ``--only dustbin``
out-distribution (dustbin) training against transferred, oblivious and adaptive PGD (`robust.experiments.dustbin`); ``--only dknn`` deep k-nearest neighbours'
accuracy, credibility and rejection under transferred FGSM/BIM (`robust.experiments.dknn`); ``--only gp-reject``
Gaussian-process rejection against transferred, oblivious and GP-aware PGD (`robust.experiments.gp_reject`); ``--only rbf`` the RBF output layer and deep RBF networks
against transferred, white-box and rejection-aware PGD (`robust.experiments.rbf`); ``--only abs`` analysis by
synthesis against L0 / L2 / L-inf attacks through its latent optimisation (`robust.experiments.abs_model`). Analyses (robust
issue 3): ``--only inevitable`` Shafahi et al.'s concentration bounds on the sphere and cube next to
exact robustness of linear classifiers, ``--only tradeoff`` Tsipras et al.'s robustness-accuracy
trade-off on their synthetic distribution, ``--only sensitivity`` Novak et al.'s Jacobian norm and
linear-region transitions against the generalization gap, ``--only single-directions`` Morcos et al.'s
ablation curves, ``--only transfer-alignment`` Demontis et al.'s gradient size and alignment against
transfer, ``--only gradient-maps`` Tsipras et al.'s input gradients of standard vs robust models,
``--only grad`` gradient reversal with fairness gaps, ``--only reprogramming`` adversarial
reprogramming, ``--only secret-sharer`` canary exposure, ``--only codimension`` robustness against codimension,
``--only weight-decay`` weight decay vs adversarial training, ``--only rotation`` p4 CNNs under the spatial
grid attack, ``--only secret-sharer-dp`` exposure under DP-SGD;
``--only analyses`` runs every study (`robust.experiments.analyses`).
"""

from __future__ import annotations

from core.cli import RunOptions
from core.results import ResultTable

__all__ = [
    "EXPERIMENTS",
    "abs_model",
    "adaptive_jpeg",
    "analyses",
    "attacks",
    "blackbox",
    "cost_sensitive",
    "defenses",
    "defenses_digits",
    "dknn",
    "dustbin",
    "gp_reject",
    "gradient_maps",
    "guided_denoiser",
    "ibp_nets",
    "inevitable",
    "perceptual",
    "physical",
    "pixel_deflection",
    "pixeldp",
    "rbf",
    "s2snet",
    "second_order",
    "sensitivity",
    "single_directions",
    "spatial",
    "tradeoff",
    "transfer",
    "transfer_alignment",
    "transfer_sources",
    "universal",
    "universal_training",
    "weight_ensemble",
]


def attacks(options: RunOptions) -> list[ResultTable]:
    """White-box robust accuracy against eps and transfer of (M-)I-FGSM vs (M-)DI2-FGSM."""
    from robust.experiments.attacks import attacks as run

    return run(options)


def blackbox(options: RunOptions) -> list[ResultTable]:
    """Success against queries of query-limited NES and low-frequency NES."""
    from robust.experiments.blackbox import blackbox as run

    return run(options)


def universal(options: RunOptions) -> list[ResultTable]:
    """Fooling rate of universal perturbations on held-out images against random noise."""
    from robust.experiments.universal import universal as run

    return run(options)


def spatial(options: RunOptions) -> list[ResultTable]:
    """Accuracy under the rotation/translation grid and worst-of-10 adversaries; stAdv and ADef success."""
    from robust.experiments.spatial import spatial as run

    return run(options)


def perceptual(options: RunOptions) -> list[ResultTable]:
    """Perceptually-aware PGD (local-variation budget) against plain PGD."""
    from robust.experiments.perceptual import perceptual as run

    return run(options)


def universal_training(options: RunOptions) -> list[ResultTable]:
    """Clean vs universal AT vs fictitious-play universal AT vs PGD AT against fresh universal perturbations."""
    from robust.experiments.universal_training import universal_training as run

    return run(options)


def second_order(options: RunOptions) -> list[ResultTable]:
    """First- vs second-order L2 attacks on a PGD-trained and a noise-defended model."""
    from robust.experiments.second_order import second_order as run

    return run(options)


def physical(options: RunOptions) -> list[ResultTable]:
    """Adversarial lighting and geometry of rendered digits through the differentiable renderer."""
    from robust.experiments.physical import physical as run

    return run(options)


def transfer(options: RunOptions) -> list[ResultTable]:
    """I-FGSM vs DI-FGSM transfer on the whole test split over resize rates."""
    from robust.experiments.transfer import transfer_resize as run

    return run(options)


def defenses(options: RunOptions) -> list[ResultTable]:
    """Clean / PGD / IBP-verified accuracy of clean, PGD-AT, ALP and IBP training."""
    from robust.experiments.defenses import defenses as run

    return run(options)


def defenses_digits(options: RunOptions) -> list[ResultTable]:
    """Clean / PGD / verified accuracy of clean, PGD-AT, ALP, IBP and PixelDP training on the 8x8 digits."""
    from robust.experiments.defenses import defenses_digits as run

    return run(options)


def ibp_nets(options: RunOptions) -> list[ResultTable]:
    """IBP training of Gowal et al.'s small, medium and large MNIST nets: clean / PGD / verified over eps."""
    from robust.experiments.ibp_nets import ibp_nets as run

    return run(options)


def pixeldp(options: RunOptions) -> list[ResultTable]:
    """PixelDP certified accuracy against L2 radius."""
    from robust.experiments.defenses import pixeldp as run

    return run(options)


def cost_sensitive(options: RunOptions) -> list[ResultTable]:
    """Certified cost-sensitive robust error of plain IBP vs cost-sensitive IBP training."""
    from robust.experiments.cost_sensitive import cost_sensitive as run

    return run(options)


def dustbin(options: RunOptions) -> list[ResultTable]:
    """Out-distribution (dustbin) training: rejection of transferred, oblivious and adaptive PGD."""
    from robust.experiments.dustbin import dustbin as run

    return run(options)


def dknn(options: RunOptions) -> list[ResultTable]:
    """Deep k-NN accuracy, credibility and rejection on clean and transferred adversarial inputs."""
    from robust.experiments.dknn import dknn as run

    return run(options)


def gp_reject(options: RunOptions) -> list[ResultTable]:
    """GP rejection on network features under transferred, oblivious and GP-aware PGD (Grosse et al.)."""
    from robust.experiments.gp_reject import gp_reject as run

    return run(options)


def rbf(options: RunOptions) -> list[ResultTable]:
    """RBF output layer (max-margin, noise rejection) and deep RBF networks under transferred and adaptive PGD."""
    from robust.experiments.rbf import rbf as run

    return run(options)


def abs_model(options: RunOptions) -> list[ResultTable]:
    """Analysis by synthesis (one VAE per class) against L0, L2 and L-inf attacks through its latent optimisation."""
    from robust.experiments.abs_model import abs_model as run

    return run(options)


def inevitable(options: RunOptions) -> list[ResultTable]:
    """Concentration bounds on the sphere and cube against exact robustness of linear classifiers."""
    from robust.experiments.analyses import run_study

    return run_study("inevitable", options)


def tradeoff(options: RunOptions) -> list[ResultTable]:
    """Standard vs robust accuracy of standard and adversarially trained linear models (Tsipras et al.)."""
    from robust.experiments.analyses import run_study

    return run_study("tradeoff", options)


def sensitivity(options: RunOptions) -> list[ResultTable]:
    """Novak et al.: Jacobian norm and linear-region transitions against the generalization gap."""
    from robust.experiments.analyses import run_study

    return run_study("sensitivity", options)


def single_directions(options: RunOptions) -> list[ResultTable]:
    """Morcos et al.: accuracy under unit / random-direction ablation against label corruption."""
    from robust.experiments.analyses import run_study

    return run_study("single-directions", options)


def transfer_alignment(options: RunOptions) -> list[ResultTable]:
    """Demontis et al.: transfer rate against target gradient size and gradient alignment."""
    from robust.experiments.analyses import run_study

    return run_study("transfer-alignment", options)


def gradient_maps(options: RunOptions) -> list[ResultTable]:
    """Tsipras et al.: input-gradient maps of standard vs adversarially trained models."""
    from robust.experiments.analyses import run_study

    return run_study("gradient-maps", options)


def _study(name: str, summary: str):
    def run(options: RunOptions) -> list[ResultTable]:
        from robust.experiments.analyses import run_study

        return run_study(name, options)

    run.__doc__ = summary
    return run


def analyses(options: RunOptions) -> list[ResultTable]:
    """Every analysis of robust issue 3 (each study once per run)."""
    from robust.experiments.analyses import analyses as run

    return run(options)


def transfer_sources(options: RunOptions) -> list[ResultTable]:
    """I-FGSM vs DI2-FGSM transfer from the MLP and from two-model ensemble sources (Xie et al.)."""
    from robust.experiments.transfer import transfer_sources as run

    return run(options)


def weight_ensemble(options: RunOptions) -> list[ResultTable]:
    """Transfer and white-box PGD against random weight-perturbation ensembles (Zhou et al.)."""
    from robust.experiments.randomized import weight_ensemble as run

    return run(options)


def pixel_deflection(options: RunOptions) -> list[ResultTable]:
    """Pixel deflection under oblivious PGD and under BPDA + EOT (Athalye & Carlini)."""
    from robust.experiments.randomized import pixel_deflection as run

    return run(options)


def guided_denoiser(options: RunOptions) -> list[ResultTable]:
    """Pixel- vs logits-guided denoisers under transferred, oblivious, white-box and BPDA PGD (Liao et al.)."""
    from robust.experiments.denoisers import guided_denoiser as run

    return run(options)


def adaptive_jpeg(options: RunOptions) -> list[ResultTable]:
    """Saliency-guided adaptive JPEG vs plain JPEG under oblivious PGD and BPDA (Prakash et al.)."""
    from robust.experiments.denoisers import adaptive_jpeg as run

    return run(options)


def fortified(options: RunOptions) -> list[ResultTable]:
    """Fortified networks (hidden-layer DAEs) vs PGD adversarial training under white-box PGD (Lamb et al.)."""
    from robust.experiments.denoisers import fortified as run

    return run(options)


def s2snet(options: RunOptions) -> list[ResultTable]:
    """S2SNet autoencoder defense under oblivious, white-box and BPDA PGD (Folz et al.)."""
    from robust.experiments.denoisers import s2snet as run

    return run(options)


EXPERIMENTS = {
    "attacks": attacks,
    "blackbox": blackbox,
    "universal": universal,
    "spatial": spatial,
    "perceptual": perceptual,
    "universal-training": universal_training,
    "second-order": second_order,
    "physical": physical,
    "transfer": transfer,
    "transfer-sources": transfer_sources,
    "defenses": defenses,
    "defenses-digits": defenses_digits,
    "ibp-nets": ibp_nets,
    "pixeldp": pixeldp,
    "cost-sensitive": cost_sensitive,
    "dustbin": dustbin,
    "dknn": dknn,
    "gp-reject": gp_reject,
    "rbf": rbf,
    "abs": abs_model,
    "weight-ensemble": weight_ensemble,
    "pixel-deflection": pixel_deflection,
    "guided-denoiser": guided_denoiser,
    "adaptive-jpeg": adaptive_jpeg,
    "fortified": fortified,
    "s2snet": s2snet,
    "inevitable": inevitable,
    "tradeoff": tradeoff,
    "sensitivity": sensitivity,
    "single-directions": single_directions,
    "transfer-alignment": transfer_alignment,
    "gradient-maps": gradient_maps,
    "grad": _study("grad", "GRAD: gradient reversal against gender on WHAS500, fairness gaps."),
    "reprogramming": _study("reprogramming", "Adversarial reprogramming of a frozen MLP."),
    "secret-sharer": _study("secret-sharer", "The secret sharer: canary exposure of a character LM."),
    "codimension": _study("codimension", "Khoury & Hadfield-Menell: robustness against codimension."),
    "weight-decay": _study("weight-decay", "Galloway et al.: weight decay vs adversarial training."),
    "rotation": _study("rotation", "Spatial grid attack against plain, augmented and p4 CNNs."),
    "secret-sharer-dp": _study("secret-sharer-dp", "Secret sharer: exposure with and without DP-SGD."),
    "analyses": analyses,
}
"""Sub-experiments by name (the ``core.reproduce`` entry point)."""
