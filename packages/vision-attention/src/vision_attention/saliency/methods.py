"""Captum's attribution methods under one call signature: ``attribute(model, inputs, targets, name)``.

The registry `METHODS` names the paper's methods; each returns a map with the shape of the input, signed
(no absolute value is taken here: `similarity` compares with and without it). Grad-CAM maps are
Captum's `LayerGradCam` on the model's ``gradcam_layer`` (ReLU applied, as in Selvaraju et al.),
upsampled bilinearly to the input size with `LayerAttribution.interpolate`; guided Grad-CAM is
Captum's `GuidedGradCam` (guided backprop times the upsampled Grad-CAM). SmoothGrad is
`NoiseTunnel(Saliency)`; its noise is drawn inside `torch.random.fork_rng` seeded by `seed`, so the
caller's RNG is untouched and the map is reproducible.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from core.errors import InputError

__all__ = ["METHODS", "attribute"]

METHODS = (
    "gradient",
    "gradient-x-input",
    "integrated-gradients",
    "guided-backprop",
    "smoothgrad",
    "grad-cam",
    "guided-grad-cam",
)


def _gradient(model, inputs, targets, **_):
    from captum.attr import Saliency

    return Saliency(model).attribute(inputs, target=targets, abs=False)


def _gradient_x_input(model, inputs, targets, **_):
    from captum.attr import InputXGradient

    return InputXGradient(model).attribute(inputs, target=targets)


def _integrated_gradients(model, inputs, targets, *, steps: int = 50, **_):
    from captum.attr import IntegratedGradients

    return IntegratedGradients(model).attribute(inputs, baselines=0.0, target=targets, n_steps=steps)


def _guided_backprop(model, inputs, targets, **_):
    from captum.attr import GuidedBackprop

    return GuidedBackprop(model).attribute(inputs, target=targets)


def _smoothgrad(model, inputs, targets, *, samples: int = 16, noise: float = 0.15, seed: int = 0, **_):
    from captum.attr import NoiseTunnel, Saliency

    spread = float(inputs.detach().max() - inputs.detach().min()) or 1.0
    with torch.random.fork_rng(devices=[inputs.device] if inputs.is_cuda else []):
        torch.manual_seed(seed)
        return NoiseTunnel(Saliency(model)).attribute(
            inputs, nt_type="smoothgrad", nt_samples=samples, stdevs=noise * spread, target=targets, abs=False
        )


def _grad_cam(model, inputs, targets, **_):
    from captum.attr import LayerAttribution, LayerGradCam

    cam = LayerGradCam(model, model.gradcam_layer).attribute(inputs, target=targets, relu_attributions=True)
    return LayerAttribution.interpolate(cam, tuple(inputs.shape[-2:]), interpolate_mode="bilinear")


def _guided_grad_cam(model, inputs, targets, **_):
    from captum.attr import GuidedGradCam

    return GuidedGradCam(model, model.gradcam_layer).attribute(
        inputs, target=targets, interpolate_mode="bilinear"
    )


_IMPLEMENTATIONS: dict[str, Callable[..., torch.Tensor]] = {
    "gradient": _gradient,
    "gradient-x-input": _gradient_x_input,
    "integrated-gradients": _integrated_gradients,
    "guided-backprop": _guided_backprop,
    "smoothgrad": _smoothgrad,
    "grad-cam": _grad_cam,
    "guided-grad-cam": _guided_grad_cam,
}


def attribute(
    model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor | int, name: str, **options
) -> torch.Tensor:
    """The `name` attribution of `model`'s `targets` logits at `inputs`.

    Args:
        model: a classifier in eval mode; Grad-CAM methods need a ``gradcam_layer`` attribute.
        inputs: ``(n, c, h, w)`` images.
        targets: ``(n,)`` class indices (or one int for all rows).
        name: one of `METHODS`.
        options: ``steps`` (integrated gradients), ``samples``, ``noise`` (fraction of the input's range)
            and ``seed`` (SmoothGrad).

    Returns:
        ``(n, c, h, w)`` float, detached.

    Raises:
        InputError: an unknown method, inputs that are not a 4-d batch, or a Grad-CAM method on a model
            without ``gradcam_layer``.
    """
    if name not in _IMPLEMENTATIONS:
        raise InputError("unknown attribution method", item=name, expected=f"one of {list(METHODS)}")
    if inputs.dim() != 4:
        raise InputError(
            "attribution inputs must be a batch of images (n, c, h, w)", item=tuple(inputs.shape)
        )
    if "grad-cam" in name and not hasattr(model, "gradcam_layer"):
        raise InputError(f"{name} needs a model with a 'gradcam_layer' attribute", item=type(model).__name__)
    inputs = inputs.detach().clone().requires_grad_(True)
    return _IMPLEMENTATIONS[name](model, inputs, targets, **options).detach()
