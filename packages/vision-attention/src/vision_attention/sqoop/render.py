"""SQOOP scenes as images and questions as token ids.

Each of the 36 objects (letters and digits) is drawn once with Pillow's default font into a
``cell x cell`` glyph (white on black, in [0, 1]); a scene pastes its 5 glyphs into their grid cells.
Tokens: objects 0..35, relations 36..39 (`RELATIONS` order), so one embedding table serves every model.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

from vision_attention.sqoop.data import OBJECTS, RELATIONS

__all__ = ["TOKENS", "encode", "glyphs", "render"]

TOKENS = len(OBJECTS) + len(RELATIONS)


@lru_cache(maxsize=8)
def glyphs(cell: int) -> np.ndarray:
    """``(36, cell, cell)`` float32 glyphs of `OBJECTS`, drawn large and box-downsampled."""
    size = 4 * cell
    font = ImageFont.load_default(size=int(size * 1.2))
    out = np.zeros((len(OBJECTS), cell, cell), dtype=np.float32)
    for i, char in enumerate(OBJECTS):
        image = Image.new("L", (size, size), 0)
        ImageDraw.Draw(image).text((size / 2, size / 2), char, fill=255, font=font, anchor="mm")
        out[i] = np.asarray(image.resize((cell, cell), Image.Resampling.BOX), dtype=np.float32) / 255.0
    return out


def render(questions: list[dict], grid: int, cell: int) -> torch.Tensor:
    """``(n, 1, grid * cell, grid * cell)`` images of the questions' scenes (from `data.make_questions`)."""
    marks = glyphs(cell)
    images = np.zeros((len(questions), 1, grid * cell, grid * cell), dtype=np.float32)
    for n, q in enumerate(questions):
        for obj, (row, col) in zip(q["objects"], q["cells"]):
            if not (0 <= row < grid and 0 <= col < grid):
                raise ValueError(f"question {n}: cell {(row, col)} is outside a {grid}x{grid} grid")
            images[n, 0, row * cell : (row + 1) * cell, col * cell : (col + 1) * cell] = marks[obj]
    return torch.from_numpy(images)


def encode(questions: list[dict]) -> tuple[torch.Tensor, torch.Tensor]:
    """``(tokens (n, 3) long: X, R, Y; answers (n,) long: 1 = yes)``."""
    tokens = [[q["lhs"], len(OBJECTS) + RELATIONS.index(q["relation"]), q["rhs"]] for q in questions]
    answers = [int(q["answer"]) for q in questions]
    return torch.tensor(tokens, dtype=torch.long), torch.tensor(answers, dtype=torch.long)
