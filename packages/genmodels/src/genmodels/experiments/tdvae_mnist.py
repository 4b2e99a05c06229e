"""``reproduce genmodels --only tdvae-mnist``: TD-VAE's jumpy rollouts on moving MNIST digits.

Gregor et al. 2019 (sec. 5, moving MNIST, a figure): a TD-VAE trained with jumps t2 - t1 in
[1, 4] on MNIST digits moving one pixel per step left or right rolls out in jumps and draws the
digit where it will be, moving the right way; the paper shows rollouts and gives no number.
Protocol here: sequences of `genmodels.sequences.moving_digits` (a 14 x 14 digit on a 14 x 28
canvas, wrapping at the edge) built from mnist-5000, training digits from images 0-3,999 and
test digits from 4,000-4,999 (digits never seen); two convolutional Bernoulli TD-VAEs of the same
size, one trained with jumps of exactly 1 (rolled out step by step) and one with jumps in [1, 4]
(rolled out in jumps of 4, and also step by step). After `CONTEXT` observed frames each predicts
the frame h steps ahead (mean of the decoder means of `SAMPLES` rollouts). Reported: pixel MSE
against h beside two baselines, the mean training frame and a copy of the last observed frame;
rollout strips as a figure.
"""

from __future__ import annotations

import time

import numpy as np
import torch

from core.cli import RunOptions
from core.plots import new_figure, save_figure
from core.results import ResultTable
from genmodels.config import TDVAEConfig, TDVAERunConfig, TrainConfig
from genmodels.sequences import moving_digits
from genmodels.tdvae import TDVAE, fit_tdvae, jump_schedule, predict

__all__ = ["CONTEXT", "SAMPLES", "SETTINGS", "TRAIN_IMAGES", "baselines", "model_config", "run"]

CONTEXT = 6
"""Observed frames before every prediction (two already fix the direction)."""

SAMPLES = 10
"""Rollouts averaged per prediction."""

TRAIN_IMAGES = 4000
"""mnist-5000 images 0..3,999 make the training digits, the rest the test digits."""

SETTINGS = {
    "smoke": {
        "train": 2000,
        "test": 200,
        "length": 12,
        "epochs": 20,
        "channels": 8,
        "horizons": (1, 2, 4, 8, 12, 16),
        "models": ("jumpy",),
    },
    "full": {
        "train": 10000,
        "test": 1000,
        "length": 20,
        "epochs": 200,
        "channels": 16,
        "horizons": (1, 2, 4, 8, 12, 16, 20),
        "models": ("step", "jumpy"),
    },
}
"""Data, epochs, conv channels, horizons and the models trained per scale (README: the times measured).

Smoke trains only the jumpy model (rolled out both ways) on sequences of 12 frames (jumps reach
4, so longer ones add little but time): 669 s for its 20 epochs on the shared 2-core machine under
a load average of about 13 (0.25 s per batch of 32 when less loaded). Full: about 0.75 s per batch of
32 sequences of 20 frames at 16 channels, measured loaded: 2 models x 200 epochs x 313 batches, about
26 hours on one core (a GPU advised)."""

MAX_JUMP = 4
"""The paper's jump range for moving MNIST is [1, 4]."""


def model_config(max_jump: int, channels: int = 16) -> TDVAEConfig:
    """The convolutional Bernoulli TD-VAE of this experiment (belief 128, z of 16, `channels` / twice that)."""
    return TDVAEConfig(
        obs_dim=14 * 28,
        belief_dim=128,
        latent_dim=16,
        hidden=128,
        min_jump=1,
        max_jump=max_jump,
        likelihood="bernoulli",
        frame=(14, 28),
        channels=channels,
    )


def baselines(train_frames: np.ndarray, context: np.ndarray, future: np.ndarray) -> dict[str, np.ndarray]:
    """Pixel MSE per horizon of the two baselines.

    Args:
        train_frames: ``(n, time, pixels)`` training frames (their mean frame is one baseline).
        context: ``(m, CONTEXT, pixels)`` observed test frames.
        future: ``(m, H, pixels)`` the frames 1..H steps after the context.

    Returns:
        ``{"mean training frame": (H,), "copy the last frame": (H,)}``.
    """
    mean = train_frames.reshape(-1, train_frames.shape[-1]).mean(0)
    return {
        "mean training frame": ((future - mean) ** 2).mean(axis=(0, 2)),
        "copy the last frame": ((future - context[:, -1:]) ** 2).mean(axis=(0, 2)),
    }


def _rollouts(max_jump: int) -> dict[str, tuple[str, object]]:
    return {
        "TD-VAE jumps 1, step by step": ("step", lambda h: [1] * h),
        f"TD-VAE jumps 1-{max_jump}, jumps of {max_jump}": ("jumpy", lambda h: jump_schedule(h, max_jump)),
        f"TD-VAE jumps 1-{max_jump}, step by step": ("jumpy", lambda h: [1] * h),
    }


def run(options: RunOptions) -> list[ResultTable]:
    """Train the TD-VAEs on moving digits, publish pixel MSE against horizon, plot curves and rollout strips."""
    from genmodels.data import load_mnist_5000

    settings = SETTINGS[options.scale]
    images = load_mnist_5000().images
    horizons = settings["horizons"]
    train = moving_digits(
        images[:TRAIN_IMAGES],
        settings["train"],
        settings["length"],
        seed=options.seed,
        source="mnist-5000 0-3999",
    )
    test = moving_digits(
        images[TRAIN_IMAGES:],
        settings["test"],
        CONTEXT + max(horizons),
        seed=options.seed + 1,
        source="mnist-5000 4000-4999",
    )
    folder = options.out / "tdvae-mnist"
    sequences = torch.from_numpy(train.flat())
    models: dict[str, TDVAE] = {}
    seconds: dict[str, float] = {}
    for name in settings["models"]:
        config = TDVAERunConfig(
            model_config(1 if name == "step" else MAX_JUMP, settings["channels"]),
            TrainConfig(
                epochs=settings["epochs"],
                batch_size=32,
                learning_rate=1e-3,
                seed=options.seed,
                checkpoint_every=1,
            ),
            pairs=4,
        )
        began = time.perf_counter()
        models[name], _ = fit_tdvae(sequences, config, checkpoint=folder / f"tdvae-mnist-{name}.safetensors")
        seconds[name] = time.perf_counter() - began
        models[name].eval()
    flat = test.flat()
    context, future = flat[:, :CONTEXT], flat[:, CONTEXT:]
    generator = torch.Generator().manual_seed(options.seed)
    table = ResultTable(
        "tdvae_mnist",
        title=f"TD-VAE on moving MNIST digits: pixel MSE of the frame h steps after {CONTEXT} observed frames",
        data=f"{train.source}; test: {test.source}",
    )
    curves: dict[str, list[float]] = {}
    context_t = torch.from_numpy(context)
    for label, (name, jumps) in _rollouts(MAX_JUMP).items():
        if name not in models:
            continue
        errors = []
        for h in horizons:
            guess = predict(models[name], context_t, jumps(h), samples=SAMPLES, generator=generator).numpy()
            errors.append(float(((guess - future[:, h - 1]) ** 2).mean()))
        curves[label] = errors
    reference = baselines(train.flat(), context, future)
    for label, values in reference.items():
        curves[label] = [float(values[h - 1]) for h in horizons]
    for label, values in curves.items():
        table.add(predictor=label, **{f"h={h}": v for h, v in zip(horizons, values)})
    table.notes = (
        f"{settings['train']} training sequences of {settings['length']} frames, {settings['epochs']} epochs per model "
        f"(conv encoder {settings['channels']}/{2 * settings['channels']} channels, belief LSTM 128, z of 16, Bernoulli "
        f"decoder, 4 (t1, t2) pairs per sequence per step, batch 32, Adam 1e-3); {settings['test']} test sequences of held-out digits; each prediction is "
        f"the mean of {SAMPLES} sampled rollouts. Training time (this call, 0 when the checkpoint was complete): "
        + ", ".join(f"{name} {value:.0f} s" for name, value in seconds.items())
        + ". Paper (Gregor et al. 2019): rollout figures with jumps of 1-4, digits drawn where they will be; "
        "no number to compare."
    )
    options.publish(table)
    figure = new_figure(6.4, 3.8)
    axis = figure.add_subplot(1, 1, 1)
    for label, values in curves.items():
        axis.plot(horizons, values, marker="o", label=label)
    axis.set(
        xlabel="horizon h (frames)", ylabel="pixel MSE", title="TD-VAE on moving MNIST: error against horizon"
    )
    axis.legend(fontsize=7)
    save_figure(figure, folder / "tdvae_mnist_horizon.png")
    _strips(models, test, folder / "tdvae_mnist_rollouts.png", options.seed, max(horizons))
    return [table]


@torch.no_grad()
def _strips(models: dict[str, TDVAE], test, path, seed: int, ahead: int, sequences: int = 3) -> None:
    """Image strips: for a few test sequences, the true frames 1..`ahead` steps on and one sampled rollout of each kind.

    Jumpy rollouts show a frame only where a jump lands (every `MAX_JUMP` steps); the rest are blank.
    """
    from genmodels.distributions import reparameterise

    generator = torch.Generator().manual_seed(seed)
    frames = test.flat()[:sequences]
    rows: list[np.ndarray] = []
    labels: list[str] = []
    height, width = test.frames.shape[2:]
    for i in range(sequences):
        rows.append(frames[i, CONTEXT : CONTEXT + ahead])
        labels.append(f"sequence {i + 1}: true frames 1..{ahead} ahead")
        context = torch.from_numpy(frames[i : i + 1, :CONTEXT])
        for label, (name, _) in _rollouts(MAX_JUMP).items():
            if name not in models:
                continue
            model = models[name]
            jump = MAX_JUMP if "jumps of" in label else 1
            z = reparameterise(*model.p_b(model.beliefs(context)[:, -1]), generator)
            row = np.zeros((ahead, height * width), np.float32)
            for step in range(jump, ahead + 1, jump):
                z = reparameterise(*model.transition(z, float(jump)), generator)
                row[step - 1] = model.decode_mean(z)[0].numpy()
            rows.append(row)
            labels.append(label)
    figure = new_figure(1.0 * ahead, 0.62 * len(rows) + 0.6)
    for r, (row, label) in enumerate(zip(rows, labels)):
        axis = figure.add_subplot(len(rows), 1, r + 1)
        gap = np.full((height, 1), 0.5, np.float32)  # a grey column between frames
        tiles = [piece for f in row for piece in (f.reshape(height, width), gap)][:-1]
        axis.imshow(np.concatenate(tiles, axis=1), cmap="gray", vmin=0.0, vmax=1.0)
        axis.set_title(label, fontsize=7, loc="left")
        axis.axis("off")
    figure.suptitle(f"TD-VAE on moving MNIST: rollouts after {CONTEXT} observed frames (held-out digits)")
    save_figure(figure, path)
