"""Out-distribution ('dustbin') training (Abbasi & Gagné 2018, sec. 34).

A classifier of ``k`` classes gets a ``k+1``-th output, the dustbin, and is trained on the
in-distribution images plus natural out-distribution images labelled dustbin (their MNIST
dustbin was NotMNIST: the letters A-J in many fonts). At test time an input the network puts in
the dustbin is rejected. The claim: many adversarial examples land in the dustbin, so the
augmented network rejects them, at little cost in clean accuracy.

- `render_letters`: a NotMNIST-like set written here: the letters A-J rendered with the TrueType
  fonts that ship inside matplotlib (DejaVu, STIX, Computer Modern; no download), white on black,
  with random size, rotation and offset. Fonts are split between training and test so that the
  dustbin is judged on fonts it has not seen.
- `with_dustbin`: ``ImageData`` of ``k`` classes plus out-distribution images as class ``k``.
- `Dustbin`: wraps the trained ``k+1``-output network as a detector for `robust.evaluate`:
  ``forward`` returns the ``k`` in-distribution logits, ``reject(x)`` is True where the dustbin
  output is the largest.
- `DustbinAwarePGD`: the adaptive attack: PGD that ascends ``-log(p_y + p_dustbin)``, i.e. pushes
  the input out of its class *and* out of the dustbin (an oblivious PGD on the ``k`` logits may
  land in the dustbin by accident; this one avoids it on purpose).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from core.errors import InputError
from robust.attacks.pgd import PGD
from robust.data import ImageData

__all__ = ["LETTERS", "Dustbin", "DustbinAwarePGD", "font_files", "render_letters", "with_dustbin"]

LETTERS = "ABCDEFGHIJ"
"""NotMNIST's ten letters."""


def font_files() -> list[Path]:
    """The TrueType fonts inside matplotlib that draw Latin letters, sorted by name."""
    import matplotlib

    folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    keep = ("DejaVu", "STIXGeneral", "cmr10", "cmss10", "cmtt10", "cmb10")
    fonts = sorted(p for p in folder.glob("*.ttf") if p.name.startswith(keep) and "Display" not in p.name)
    if not fonts:
        raise InputError("no TrueType fonts found inside matplotlib", item=str(folder))
    return fonts


def render_letters(
    n: int, fonts: Sequence[str | Path], size: int = 28, seed: int = 0, letters: str = LETTERS
) -> Tensor:
    """``(n, 1, size, size)`` float32 images in [0, 1] of random letters in random `fonts`.

    Each glyph is drawn at 48 px, rotated by up to 15 degrees, scaled so that its box spans 55-85 %
    of the image and placed with up to 10 % offset, then resized to `size` (antialiased).
    """
    from PIL import Image, ImageDraw, ImageFont

    if n < 0 or not fonts:
        raise InputError(
            "render_letters needs n >= 0 and at least one font", item=f"n={n}, fonts={len(fonts)}"
        )
    rng = np.random.default_rng(seed)
    loaded = [ImageFont.truetype(str(f), 48) for f in fonts]
    out = np.zeros((n, 1, size, size), dtype=np.float32)
    for i in range(n):
        font = loaded[rng.integers(len(loaded))]
        letter = letters[rng.integers(len(letters))]
        canvas = Image.new("L", (96, 96), 0)
        ImageDraw.Draw(canvas).text((48, 48), letter, fill=255, font=font, anchor="mm")
        canvas = canvas.rotate(float(rng.uniform(-15, 15)), resample=Image.BILINEAR)
        box = canvas.getbbox()
        if box is None:  # a font without this glyph draws nothing
            continue
        glyph = canvas.crop(box)
        span = rng.uniform(0.55, 0.85) * size
        scale = span / max(glyph.size)
        glyph = glyph.resize(
            (max(1, round(glyph.size[0] * scale)), max(1, round(glyph.size[1] * scale))), Image.LANCZOS
        )
        frame = Image.new("L", (size, size), 0)
        dx, dy = (rng.uniform(-0.1, 0.1, 2) * size).round().astype(int)
        frame.paste(glyph, ((size - glyph.size[0]) // 2 + dx, (size - glyph.size[1]) // 2 + dy))
        out[i, 0] = np.asarray(frame, dtype=np.float32) / 255.0
    return torch.from_numpy(out)


def with_dustbin(data: ImageData, train_out: Tensor, test_out: Tensor) -> ImageData:
    """``data`` with the out-distribution images ``train_out`` / ``test_out`` appended as class ``k``."""
    for name, images in (("train_out", train_out), ("test_out", test_out)):
        if tuple(images.shape[1:]) != data.image_shape:
            raise InputError(
                f"out-distribution images must be {data.image_shape}",
                item=f"{name} {tuple(images.shape[1:])}",
            )
    k = data.num_classes

    def labelled(images: Tensor) -> Tensor:
        return torch.full((len(images),), k, dtype=data.y_train.dtype)

    return replace(
        data,
        name=f"{data.name}+dustbin",
        x_train=torch.cat([data.x_train, train_out.to(data.x_train.dtype)]),
        y_train=torch.cat([data.y_train, labelled(train_out)]),
        x_test=torch.cat([data.x_test, test_out.to(data.x_test.dtype)]),
        y_test=torch.cat([data.y_test, labelled(test_out)]),
        num_classes=k + 1,
        source=f"{data.source}; dustbin: {len(train_out)} + {len(test_out)} out-distribution images",
    )


class Dustbin(nn.Module):
    """A detector from a network with ``k + 1`` outputs, the last one the dustbin.

    ``forward(x) -> (n, k)`` in-distribution logits; ``reject(x) -> (n,) bool`` where the dustbin
    logit is the largest; ``full(x) -> (n, k + 1)``.
    """

    def __init__(self, network: nn.Module) -> None:
        super().__init__()
        self.network = network

    def full(self, x: Tensor) -> Tensor:
        return self.network(x)

    def forward(self, x: Tensor) -> Tensor:
        return self.network(x)[:, :-1]

    @torch.no_grad()
    def reject(self, x: Tensor) -> Tensor:
        logits = self.network(x)
        return logits.argmax(1) == logits.shape[1] - 1


class DustbinAwarePGD(PGD):
    """PGD on a `Dustbin` detector that ascends ``-log(p_y + p_dustbin)`` over the ``k + 1`` outputs.

    Takes PGD's arguments; ``model`` must be a `Dustbin`. An example counts as fooled (for the
    restarts) when it is classified as another in-distribution class and not rejected.
    """

    name = "pgd-dustbin"

    def __init__(self, model: Dustbin, *args: object, **kwargs: object) -> None:
        if not isinstance(model, Dustbin):
            raise InputError("DustbinAwarePGD attacks a Dustbin detector", item=type(model).__name__)
        super().__init__(model, *args, **kwargs)  # type: ignore[arg-type]
        self._dustbin = model

    def logits(self, x: Tensor) -> Tensor:
        return self._dustbin.full(x)

    def succeeded(self, x_adv: Tensor, y: Tensor) -> Tensor:
        predicted = self.predict(x_adv)  # over the k + 1 outputs
        dustbin = predicted == self._dustbin_index(x_adv)
        return (predicted == y) if self.targeted else (predicted != y) & ~dustbin

    def _dustbin_index(self, x: Tensor) -> int:
        with torch.no_grad():
            return self.logits(x[:1]).shape[1] - 1

    def loss(self, logits: Tensor, y: Tensor) -> Tensor:
        log_p = logits.log_softmax(1)
        kept = torch.logaddexp(log_p.gather(1, y[:, None])[:, 0], log_p[:, -1])
        return kept if self.targeted else -kept
