"""The CoordConv layer (Liu et al. 2018, sec. 3): convolution over the input plus coordinate channels.

`AddCoords` appends an ``x`` channel running from -1 (left column) to 1 (right column), a ``y`` channel
from -1 (top row) to 1 (bottom row) and, optionally, the radius ``r = sqrt(x^2 + y^2)`` (the paper's
"with_r" variant; its range is [0, sqrt(2)]). `CoordConv2d` is `AddCoords` followed by `torch.nn.Conv2d`
with 2 (or 3) more input channels, so it drops in for a ``Conv2d``.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from core.errors import InputError

__all__ = ["AddCoords", "CoordConv2d", "coordinate_channels"]


def coordinate_channels(height: int, width: int, *, with_r: bool = False, device: Any = None) -> torch.Tensor:
    """``(2 or 3, height, width)``: x (column) and y (row) coordinates in [-1, 1], then r if asked.

    A side of length 1 has coordinate 0 (the centre).
    """
    if height < 1 or width < 1:
        raise InputError("coordinate channels need a positive height and width", item=(height, width))

    def axis(size: int) -> torch.Tensor:
        if size == 1:
            return torch.zeros(1, device=device)
        return torch.linspace(-1.0, 1.0, size, device=device)

    y, x = torch.meshgrid(axis(height), axis(width), indexing="ij")
    channels = [x, y]
    if with_r:
        channels.append(torch.sqrt(x**2 + y**2))
    return torch.stack(channels)


class AddCoords(nn.Module):
    """Append coordinate channels: ``(n, c, h, w) -> (n, c + 2 (+1 with_r), h, w)``."""

    def __init__(self, with_r: bool = False) -> None:
        super().__init__()
        self.with_r = with_r

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4:
            raise InputError("AddCoords expects a batch of images (n, c, h, w)", item=tuple(x.shape))
        n, _, h, w = x.shape
        coords = coordinate_channels(h, w, with_r=self.with_r, device=x.device).to(x.dtype)
        return torch.cat([x, coords.expand(n, -1, -1, -1)], dim=1)

    def extra_repr(self) -> str:
        return f"with_r={self.with_r}"


class CoordConv2d(nn.Module):
    """`AddCoords` then ``nn.Conv2d(in_channels + 2 (+1), out_channels, ...)``; same arguments as ``Conv2d``."""

    def __init__(
        self, in_channels: int, out_channels: int, kernel_size: Any, *, with_r: bool = False, **conv: Any
    ):
        super().__init__()
        self.add_coords = AddCoords(with_r)
        self.conv = nn.Conv2d(in_channels + 2 + int(with_r), out_channels, kernel_size, **conv)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(self.add_coords(x))
