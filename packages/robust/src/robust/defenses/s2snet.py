"""S2SNets: structure-to-signal autoencoders in front of a fixed classifier (Folz et al. 2018; sec. 35).

Two phases, the classifier ``f`` never changes:

1. an autoencoder ``D(E(x))`` is trained unsupervised to reconstruct images (mean squared error),
   independently of ``f`` and of any attack;
2. the encoder ``E`` (the "structure") is frozen and only the decoder ``D`` (the "signal") is
   fine-tuned with the classifier's gradients: cross-entropy of ``f(D(E(x)))`` on the labels, plus
   `reconstruction_weight` x the reconstruction error (ours; 0 is the paper's pure fine-tuning).

The defended, reconstruction-based classifier is ``f(D(E(x)))`` (`S2SNet` as the transform of
`robust.defenses.Defended`). Folz et al.'s argument: gradients through a task-agnostic encoder are
not class-specific, so gradient attacks lose their aim. It is differentiable end to end, so the
adaptive attack is white-box PGD through ``f(D(E(x)))``; BPDA (identity backward) is the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor, nn

from core.errors import InputError
from core.resume import extendable
from robust.data import ImageData

__all__ = ["S2SConfig", "S2SNet", "fit_s2snet"]


@dataclass(frozen=True)
class S2SConfig:
    """One S2SNet run.

    Attributes:
        width: channels of the encoder's first convolution (the second has twice as many).
        code_channels: channels of the structure code at a quarter of the image side.
        pretrain_epochs: phase 1, unsupervised reconstruction (extendable).
        finetune_epochs: phase 2, decoder only, classifier's cross-entropy (extendable).
        reconstruction_weight: weight of the reconstruction error during phase 2.
        batch_size, learning_rate, seed: Adam minibatches and the run's seed.
    """

    width: int = 16
    code_channels: int = 8
    pretrain_epochs: int = extendable(10)
    finetune_epochs: int = extendable(5)
    reconstruction_weight: float = 0.0
    batch_size: int = 50
    learning_rate: float = 1e-3
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("width", "code_channels", "pretrain_epochs", "batch_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InputError(f"{name} must be a positive integer", item=f"{name}={value!r}")
        if (
            isinstance(self.finetune_epochs, bool)
            or not isinstance(self.finetune_epochs, int)
            or self.finetune_epochs < 0
        ):
            raise InputError(
                "finetune_epochs must be an integer >= 0", item=f"finetune_epochs={self.finetune_epochs!r}"
            )
        if not self.reconstruction_weight >= 0:
            raise InputError(
                "reconstruction_weight must be >= 0",
                item=f"reconstruction_weight={self.reconstruction_weight!r}",
            )
        if not self.learning_rate > 0:
            raise InputError("learning_rate must be > 0", item=f"learning_rate={self.learning_rate!r}")


class S2SNet(nn.Module):
    """Convolutional autoencoder ``x (n, c, h, w) -> D(E(x))`` with a code at side ``ceil(h / 4)``.

    Encoder: conv 3x3 stride 2 (`width`), ReLU, conv 3x3 stride 2 (2 width), ReLU, 1x1 conv to
    `code_channels`. Decoder: 1x1 conv, ReLU, two x2 bilinear upsamplings each followed by a 3x3
    conv (ReLU between), sigmoid output, resized to the input side.
    """

    def __init__(self, channels: int = 1, width: int = 16, code_channels: int = 8) -> None:
        super().__init__()
        self.channels = channels
        self.encoder = nn.Sequential(
            nn.Conv2d(channels, width, 3, 2, 1),
            nn.ReLU(),
            nn.Conv2d(width, 2 * width, 3, 2, 1),
            nn.ReLU(),
            nn.Conv2d(2 * width, code_channels, 1),
        )
        self.decoder = nn.Sequential(
            nn.Conv2d(code_channels, 2 * width, 1),
            nn.ReLU(),
            nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
            nn.Conv2d(2 * width, width, 3, padding=1),
            nn.ReLU(),
            nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
            nn.Conv2d(width, channels, 3, padding=1),
        )

    def encode(self, x: Tensor) -> Tensor:
        if x.ndim != 4 or x.shape[1] != self.channels:
            raise InputError(
                "S2SNet takes (n, c, h, w) images", item=tuple(x.shape), expected=f"c={self.channels}"
            )
        return self.encoder(x)

    def decode(self, code: Tensor, size: tuple[int, int]) -> Tensor:
        out = self.decoder(code)
        if tuple(out.shape[-2:]) != tuple(size):
            out = nn.functional.interpolate(out, size=size, mode="bilinear", align_corners=False)
        return torch.sigmoid(out)

    def forward(self, x: Tensor) -> Tensor:
        return self.decode(self.encode(x), x.shape[-2:])


def fit_s2snet(
    classifier: nn.Module,
    data: ImageData,
    config: S2SConfig,
    checkpoint: str | Path | None = None,
    *,
    device: torch.device | str = "cpu",
) -> tuple[S2SNet, list[dict[str, float]]]:
    """Both S2SNet phases for the fixed `classifier` on `data`'s training split.

    Checkpoints: phase 1 at ``<stem>-autoencoder.safetensors`` beside `checkpoint`, phase 2 at
    `checkpoint` (each rewritten after every epoch and resumed). The classifier's mode, values and
    ``requires_grad`` flags are restored afterwards.

    Returns:
        ``(autoencoder in eval mode, history)``: phase-1 rows (``phase`` 1, ``test_mse``) then
        phase-2 rows (``phase`` 2, ``test_accuracy`` of ``f(D(E(x)))``).
    """
    from robust.defenses.module_training import train_module
    from robust.guard import evaluation_mode
    from robust.models import accuracy

    device = torch.device(device)
    classifier.to(device)
    x, y = data.x_train.to(device), data.y_train.to(device)
    x_test, y_test = data.x_test.to(device), data.y_test.to(device)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        net = S2SNet(data.image_shape[0], config.width, config.code_channels).to(device)
    first = second = None
    if checkpoint is not None:
        second = Path(checkpoint)
        first = second.with_name(second.stem + "-autoencoder.safetensors")
    common = {"batch_size": config.batch_size, "learning_rate": config.learning_rate, "seed": config.seed}

    def reconstruction(epoch: int, batch: tuple[Tensor, ...]) -> Tensor:
        return (net(batch[0]) - batch[0]).pow(2).mean()

    def test_mse(module: nn.Module) -> dict[str, float]:
        with torch.no_grad():
            return {"phase": 1, "test_mse": float((module(x_test) - x_test).pow(2).mean())}

    history = train_module(
        net, list(net.parameters()), (x,), reconstruction, config, epochs=config.pretrain_epochs,
        checkpoint=first, desc="s2s autoencoder", end_epoch=test_mse, **common,
    )  # fmt: skip
    net.encoder.requires_grad_(False)
    with evaluation_mode(classifier):

        def finetune(epoch: int, batch: tuple[Tensor, ...]) -> Tensor:
            images, labels = batch
            net.encoder.eval()
            reconstructed = net(images)
            loss = nn.functional.cross_entropy(classifier(reconstructed), labels)
            if config.reconstruction_weight > 0:
                loss = loss + config.reconstruction_weight * (reconstructed - images).pow(2).mean()
            return loss

        def test_accuracy(module: nn.Module) -> dict[str, float]:
            return {"phase": 2, "test_accuracy": accuracy(nn.Sequential(module, classifier), x_test, y_test)}

        if config.finetune_epochs > 0:
            history += train_module(
                net, list(net.decoder.parameters()), (x, y), finetune, config,
                epochs=config.finetune_epochs, checkpoint=second, desc="s2s decoder fine-tuning",
                end_epoch=test_accuracy, **common,
            )  # fmt: skip
    net.encoder.requires_grad_(True)
    return net.eval(), history
