"""PlaNet's convolutional observation encoder and decoder for 64 x 64 RGB frames (Hafner et al. 2019, appendix A).

Encoder: four 4 x 4 convolutions of stride 2 with ``depth * (1, 2, 4, 8)`` channels and ReLUs,
64 x 64 -> 31 -> 14 -> 6 -> 2, flattened to ``32 * depth`` features (1,024 at the paper's depth 32).
Decoder: a dense layer from ``[h, s]`` to ``32 * depth`` features read as a 1 x 1 map, then
transposed convolutions of kernel 5, 5, 6, 6 and stride 2 with ``depth * (4, 2, 1)`` and 3 channels,
1 -> 5 -> 13 -> 30 -> 64: the mean of the Gaussian observation model (no output squashing).
Both read and write flattened frames ``(..., 3 * 64 * 64)`` (channel-first), so the RSSM and its
objective see vectors whichever encoder is used.
"""

from __future__ import annotations

from torch import Tensor, nn

__all__ = ["FRAME_SHAPE", "ConvDecoder", "ConvEncoder"]

FRAME_SHAPE = (3, 64, 64)
"""The frames these networks read: channels, height, width."""


class ConvEncoder(nn.Module):
    """``(..., 3 * 64 * 64) -> (..., 32 * depth)``."""

    def __init__(self, depth: int = 32) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        previous = FRAME_SHAPE[0]
        for multiple in (1, 2, 4, 8):
            layers += [nn.Conv2d(previous, depth * multiple, 4, stride=2), nn.ReLU()]
            previous = depth * multiple
        self.net = nn.Sequential(*layers, nn.Flatten())
        self.features = 32 * depth

    def forward(self, frames: Tensor) -> Tensor:
        leading = frames.shape[:-1]
        out = self.net(frames.reshape(-1, *FRAME_SHAPE))
        return out.reshape(*leading, self.features)


class ConvDecoder(nn.Module):
    """``(..., features) -> (..., 3 * 64 * 64)``: the mean frame of the observation model."""

    def __init__(self, features: int, depth: int = 32) -> None:
        super().__init__()
        self.dense = nn.Linear(features, 32 * depth)
        self.net = nn.Sequential(
            nn.ConvTranspose2d(32 * depth, 4 * depth, 5, stride=2),
            nn.ReLU(),
            nn.ConvTranspose2d(4 * depth, 2 * depth, 5, stride=2),
            nn.ReLU(),
            nn.ConvTranspose2d(2 * depth, depth, 6, stride=2),
            nn.ReLU(),
            nn.ConvTranspose2d(depth, FRAME_SHAPE[0], 6, stride=2),
        )
        self.size = FRAME_SHAPE[0] * FRAME_SHAPE[1] * FRAME_SHAPE[2]

    def forward(self, features: Tensor) -> Tensor:
        leading = features.shape[:-1]
        hidden = self.dense(features.reshape(-1, features.shape[-1]))
        out = self.net(hidden[:, :, None, None])
        return out.reshape(*leading, self.size)
