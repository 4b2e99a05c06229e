"""A small differentiable renderer (sec. 10, Liu et al. 2019): Lambertian height fields under
spherical-harmonic lighting.

A `Scene` is a height field ``height (n, h, w)`` (the z coordinate of a surface over the pixel grid,
in pixel units), an albedo map ``albedo (n, h, w)`` and grey lighting ``lighting (n, 9)``: the
coefficients ``L_lm`` of the incoming radiance in the real spherical harmonics of degree <= 2.
The camera looks straight down (orthographic) at the surface, so every pixel sees exactly one
surface point and no rasterisation is needed (meshes with occlusion are not supported).
`render` computes, per pixel, the unit normal from central differences of the height field,
``n ~ (-dz/dx, -dz/dy, 1)``, and the Lambertian radiance

    I = albedo * sum_lm (A_l / pi) L_lm Y_lm(n),   A_0 = pi, A_1 = 2 pi / 3, A_2 = pi / 4,

Ramamoorthi & Hanrahan's (2001) irradiance of the clamped-cosine kernel, clipped to [0, 1].
Everything is differentiable in the height field, the albedo and the lighting (tested against
finite differences). `directional_lighting` gives the coefficients of a distant light
(``L_lm = s Y_lm(d)`` plus an ambient term), `relief` turns digit images into embossed height
fields, and `rendered_dataset` renders a data set under random lighting.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from core.errors import InputError

__all__ = [
    "SH_BANDS",
    "Scene",
    "directional_lighting",
    "normals",
    "relief",
    "render",
    "rendered_dataset",
    "sh_basis",
]

SH_BANDS = torch.tensor([0, 1, 1, 1, 2, 2, 2, 2, 2])
"""Degree ``l`` of each of the 9 coefficients (order: Y00, Y1-1, Y10, Y11, Y2-2, Y2-1, Y20, Y21, Y22)."""

_KERNEL = (1.0, 2.0 / 3.0, 0.25)  # A_l / pi of the clamped cosine, l = 0, 1, 2


@dataclass(frozen=True)
class Scene:
    """Height field, albedo and lighting of ``n`` images of ``h x w`` pixels."""

    height: Tensor
    albedo: Tensor
    lighting: Tensor

    def __post_init__(self) -> None:
        if self.height.ndim != 3:
            raise InputError("height must be (n, h, w)", item=f"shape {tuple(self.height.shape)}")
        if self.albedo.shape != self.height.shape:
            raise InputError(
                "albedo must have the height field's shape",
                item=f"{tuple(self.albedo.shape)} vs {tuple(self.height.shape)}",
            )
        if self.lighting.shape != (len(self.height), 9):
            raise InputError(
                f"lighting must be ({len(self.height)}, 9) spherical-harmonic coefficients",
                item=f"shape {tuple(self.lighting.shape)}",
            )

    def replace(self, **fields: Tensor) -> Scene:
        """A copy with some fields replaced."""
        return Scene(**{"height": self.height, "albedo": self.albedo, "lighting": self.lighting, **fields})


def sh_basis(direction: Tensor) -> Tensor:
    """The 9 real spherical harmonics of degree <= 2 at unit vectors ``direction (..., 3)`` -> ``(..., 9)``."""
    x, y, z = direction.unbind(-1)
    return torch.stack(
        [
            torch.full_like(x, 0.5 * math.sqrt(1 / math.pi)),
            math.sqrt(3 / (4 * math.pi)) * y,
            math.sqrt(3 / (4 * math.pi)) * z,
            math.sqrt(3 / (4 * math.pi)) * x,
            0.5 * math.sqrt(15 / math.pi) * x * y,
            0.5 * math.sqrt(15 / math.pi) * y * z,
            0.25 * math.sqrt(5 / math.pi) * (3 * z * z - 1),
            0.5 * math.sqrt(15 / math.pi) * x * z,
            0.25 * math.sqrt(15 / math.pi) * (x * x - y * y),
        ],
        dim=-1,
    )


def normals(height: Tensor) -> Tensor:
    """Unit surface normals ``(n, h, w, 3)`` of ``height (n, h, w)`` from central differences (edges replicated)."""
    padded = nn.functional.pad(height[:, None], (1, 1, 1, 1), mode="replicate")[:, 0]
    dx = 0.5 * (padded[:, 1:-1, 2:] - padded[:, 1:-1, :-2])
    dy = 0.5 * (padded[:, 2:, 1:-1] - padded[:, :-2, 1:-1])
    normal = torch.stack([-dx, -dy, torch.ones_like(dx)], dim=-1)
    return normal / normal.norm(dim=-1, keepdim=True)


def render(scene: Scene) -> Tensor:
    """Images ``(n, 1, h, w)`` in [0, 1] of the Lambertian `scene` (see the module docstring)."""
    kernel = torch.tensor(_KERNEL, dtype=scene.lighting.dtype, device=scene.lighting.device)[
        SH_BANDS.to(scene.lighting.device)
    ]
    basis = sh_basis(normals(scene.height))  # (n, h, w, 9)
    radiance = (basis * (kernel * scene.lighting)[:, None, None, :]).sum(-1)
    return (scene.albedo * radiance).clamp(0.0, 1.0)[:, None]


def directional_lighting(direction: Tensor, strength: Tensor, ambient: Tensor) -> Tensor:
    """``(n, 9)`` coefficients of a distant light along unit ``direction (n, 3)`` plus a uniform sky.

    The light's radiance is ``pi * strength`` times the delta function at ``direction``
    (``L_lm = pi * strength * Y_lm(direction)``), so a white surface at angle ``theta`` to it renders as
    about ``strength * max(cos theta, 0)`` (exactly ``1.0625 * strength`` at ``theta = 0``: the degree-2
    approximation of the clamped cosine); the sky's uniform radiance ``ambient (n,)`` renders as ``ambient``.
    """
    lighting = math.pi * strength[:, None] * sh_basis(direction)
    lighting[:, 0] = lighting[:, 0] + ambient * 2 * math.sqrt(math.pi)  # integral of Y00 over the sphere
    return lighting


def relief(images: Tensor, depth: float = 3.0, sigma: float = 1.0) -> Tensor:
    """Height fields ``(n, h, w)`` embossing grey images ``(n, 1, h, w)``: ``depth`` times their Gaussian blur."""
    from robust.attacks.flow import gaussian_smooth

    return depth * gaussian_smooth(images, sigma)[:, 0]


def random_lighting(n: int, generator: torch.Generator) -> Tensor:
    """``(n, 9)`` random lighting: ambient U(0.1, 0.3), a light of strength U(0.2, 0.3) from a uniformly
    random azimuth at elevation U(20, 60) degrees."""
    azimuth = 2 * math.pi * torch.rand(n, generator=generator)
    elevation = torch.deg2rad(20 + 40 * torch.rand(n, generator=generator))
    direction = torch.stack(
        [elevation.cos() * azimuth.cos(), elevation.cos() * azimuth.sin(), elevation.sin()], dim=1
    )
    strength = 0.2 + 0.1 * torch.rand(n, generator=generator)
    ambient = 0.1 + 0.2 * torch.rand(n, generator=generator)
    return directional_lighting(direction, strength, ambient)


def rendered_dataset(data, *, depth: float = 6.0, ink: float = 0.5, seed: int = 0):
    """`data` (an `ImageData` of grey digits) as embossed, inked reliefs under random lighting.

    Each image ``x`` becomes ``Scene(relief(x, depth), albedo 1 - ink * x, random lighting)``: the
    digit is a raised stroke of darker albedo, seen through its shading and its ink. Returns
    ``(rendered ImageData named "rendered-<name>", train scenes, test scenes)``.
    """
    from robust.data import ImageData

    if data.image_shape[0] != 1:
        raise InputError("rendering needs grey images (1 channel)", item=f"shape {data.image_shape}")
    generator = torch.Generator().manual_seed(seed)
    scenes = []
    for x in (data.x_train, data.x_test):
        height = relief(x, depth)
        scenes.append(Scene(height, 1 - ink * x[:, 0], random_lighting(len(x), generator)))
    with torch.no_grad():
        train, test = (render(scene) for scene in scenes)
    rendered = ImageData(
        f"rendered-{data.name}",
        train,
        data.y_train,
        test,
        data.y_test,
        data.num_classes,
        f"{data.source}; embossed depth {depth} px, ink {ink}, random SH lighting seed {seed}",
    )
    return rendered, scenes[0], scenes[1]
