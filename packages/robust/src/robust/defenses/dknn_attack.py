"""An adaptive attack on deep k-nearest neighbours: move every indexed layer towards a target class's neighbours.

DkNN (`robust.defenses.dknn.DkNN`) classifies by the labels of the k nearest training images in
each indexed layer, and its credibility is high when those labels agree. An attack crafted on the
network's logits (and transferred) moves the logits but leaves the earlier layers' neighbourhoods
mixed, so credibility drops and the detector rejects. Sitawarin & Wagner (2019, "On the robustness
of deep k-nearest neighbors") attack DkNN itself: pick a target class, take ``m`` *guide* training
images of that class near the input, and minimise the distance of the input's representation to
the guides' in every indexed layer, so that the neighbours in all layers, and with them DkNN's
prediction and credibility, become the target's.

`DkNNFeatureAttack(dknn, x_train, eps, alpha, steps, guides=m)`: the guides of a class are its ``m``
training images nearest to the input in the guide layer (default: the deepest indexed layer before
the logits); the target is the class other than the label whose guides are nearest on average
(with ``targeted=True`` ``y`` holds the targets); the loss, minimised by signed-gradient
steps projected on the L-inf ball of radius `eps` (and [0, 1]), is

    ``sum_l mean_i ||f_l(x') - f_l(g_i)||_2 / s_l``,  ``s_l`` = its value at the clean input,

so every layer starts at 1 (Sitawarin & Wagner threshold each distance with a sigmoid around the
k-th neighbour's distance; we use the normalised distance). Every `check_every` steps DkNN is
queried and each input keeps the iterate that fools it with the highest credibility. Cost: one
gradient call of the network per step, charged as `cost_` (the DkNN queries are not counted).
"""

from __future__ import annotations

import torch
from torch import Tensor

from core.errors import InputError
from robust.attacks.base import Attack, check_budget
from robust.defenses.dknn import DkNN

__all__ = ["DkNNFeatureAttack"]


class DkNNFeatureAttack(Attack):
    """Feature-space L-inf attack on `DkNN` (Sitawarin & Wagner 2019), targeting a class's neighbours.

    Args:
        dknn: the fitted `DkNN` (its network is attacked through every indexed layer).
        x_train: ``(n, c, h, w)`` the training images `dknn` indexed (their labels are ``dknn.y_train``).
        eps: L-inf radius; alpha: signed step; steps: iterations.
        guides: target-class training images per input (``m``; default `dknn.k`).
        guide_layer: position in ``dknn.layers`` of the layer the guides are chosen in
            (default: the last but one, the deepest hidden layer when the logits are indexed).
        check_every: every this many steps (and at the last) DkNN is queried; each input keeps the
            iterate that fools DkNN with the highest credibility so far (the input itself if none does).
        targeted: ``y`` holds target classes instead of labels.

    Raises:
        InputError: a budget that is not positive, `x_train` of another length than the index, a
            guide layer outside ``dknn.layers``, more guides than some class has training images.
    """

    name = "dknn-feature"

    def __init__(
        self,
        dknn: DkNN,
        x_train: Tensor,
        eps: float = 0.25,
        alpha: float = 0.01,
        steps: int = 40,
        *,
        guides: int | None = None,
        guide_layer: int | None = None,
        check_every: int = 10,
        targeted: bool = False,
        seed: int = 0,
    ) -> None:
        super().__init__(dknn.model, targeted=targeted, seed=seed)
        check_budget("eps", eps)
        check_budget("alpha", alpha, positive=True)
        check_budget("steps", steps, positive=True, integer=True)
        guides = dknn.k if guides is None else guides
        check_budget("guides", guides, positive=True, integer=True)
        check_budget("check_every", check_every, positive=True, integer=True)
        if len(x_train) != len(dknn.y_train):
            raise InputError(
                f"x_train must be the {len(dknn.y_train)} images the DkNN indexed",
                item=f"{len(x_train)} images",
            )
        layers = len(dknn.layers)
        guide_layer = max(layers - 2, 0) if guide_layer is None else guide_layer
        if isinstance(guide_layer, bool) or not isinstance(guide_layer, int) or not 0 <= guide_layer < layers:
            raise InputError(
                f"guide_layer must index dknn.layers (0..{layers - 1})", item=f"guide_layer={guide_layer!r}"
            )
        smallest = int(torch.bincount(torch.from_numpy(dknn.y_train), minlength=dknn.num_classes).min())
        if guides > smallest:
            raise InputError(
                f"guides must be <= {smallest} (the smallest class's training images)",
                item=f"guides={guides}",
            )
        self.dknn, self.eps, self.alpha, self.steps = dknn, float(eps), float(alpha), steps
        self.guides, self.guide_layer, self.check_every = guides, guide_layer, check_every
        self.train_labels = torch.from_numpy(dknn.y_train)
        self.train_features = [torch.from_numpy(f) for f in dknn.representations(x_train)]
        self.target_: Tensor | None = None

    def features(self, x: Tensor) -> list[Tensor]:
        """The indexed layers' flattened outputs of ``x``, differentiable: one ``(n, d_l)`` tensor per layer."""
        wanted, out, h = set(self.dknn.layers), {}, x
        for index, layer in enumerate(self.dknn.model):
            h = layer(h)
            if index in wanted:
                out[index] = h.flatten(1)
            if len(out) == len(wanted):
                break
        return [out[index] for index in self.dknn.layers]

    def choose_guides(self, x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
        """Targets ``(n,)`` and guides ``(n, m)`` (training-image indices) for ``x``.

        For each class, the ``m`` training images of that class nearest to ``x`` in the guide layer;
        the target is the class other than ``y`` whose guides are nearest on average (``y`` itself
        when targeted): the closest other class in the deep representation.
        """
        with torch.no_grad():
            query = self.features(x)[self.guide_layer].cpu()
        bank = self.train_features[self.guide_layer]
        mean_distance = torch.empty(len(x), self.dknn.num_classes)
        nearest = torch.empty(len(x), self.dknn.num_classes, self.guides, dtype=torch.long)
        for c in range(self.dknn.num_classes):
            members = (self.train_labels == c).nonzero().flatten()
            distance, index = torch.cdist(query, bank[members]).topk(self.guides, dim=1, largest=False)
            mean_distance[:, c], nearest[:, c] = distance.mean(1), members[index]
        y_cpu = y.cpu()
        target = y_cpu if self.targeted else mean_distance.scatter(1, y_cpu[:, None], float("inf")).argmin(1)
        return target.to(y.device), nearest[torch.arange(len(x)), target]

    def perturb(self, x: Tensor, y: Tensor) -> Tensor:
        target, chosen = self.choose_guides(x, y)
        centres = [bank[chosen].to(x.device) for bank in self.train_features]  # (n, m, d_l)

        squared_centres = [g.pow(2).sum(-1) for g in centres]  # (n, m)

        def distances(point: Tensor) -> list[Tensor]:
            """Mean L2 distance to the guides per layer, ``(n,)`` each, by ``|f|^2 - 2 f.g + |g|^2``."""
            out = []
            for f, g, g2 in zip(self.features(point), centres, squared_centres, strict=True):
                squared = f.pow(2).sum(-1, keepdim=True) - 2 * torch.bmm(g, f[:, :, None])[..., 0] + g2
                out.append(squared.clamp_min(1e-12).sqrt().mean(1))
            return out

        with torch.no_grad():
            scale = [d.clamp_min(1e-12) for d in distances(x)]
        x_adv, best = x.clone(), x.clone()
        best_credibility = torch.full((len(x),), -1.0)
        for step in range(1, self.steps + 1):
            point = x_adv.detach().requires_grad_(True)
            with torch.enable_grad():
                loss = sum((d / s).sum() for d, s in zip(distances(point), scale, strict=True))
                (grad,) = torch.autograd.grad(loss, point)
            self._charge(1, None)
            x_adv = x_adv - self.alpha * grad.sign()
            x_adv = torch.min(torch.max(x_adv, x - self.eps), x + self.eps).clamp(0, 1).detach()
            if step % self.check_every == 0 or step == self.steps:
                out = self.dknn.explain(x_adv)
                fooled = (out.prediction == target.cpu()) if self.targeted else (out.prediction != y.cpu())
                better = fooled & (out.credibility > best_credibility)
                best[better.to(x.device)] = x_adv[better.to(x.device)]
                best_credibility = torch.where(better, out.credibility, best_credibility)
        self.target_ = target
        return best

    def budget(self) -> dict[str, object]:
        return {
            "norm": "linf",
            "eps": self.eps,
            "alpha": self.alpha,
            "steps": self.steps,
            "guides": self.guides,
        }
