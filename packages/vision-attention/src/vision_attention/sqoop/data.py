"""SQOOP questions "X R Y?" and the #rhs/lhs split (Bahdanau et al. 2019, sec. 5).

36 objects (26 letters, 10 digits), four relations. For a split with k rhs/lhs, every left-hand object X is
paired with k right-hand objects Y for training; all other (X, Y) pairs (X != Y) are held out for testing.
A scene places 5 distinct objects on a grid of cells; a question is answered from their cell coordinates.

Not exactly the paper's generator: the paper renders the 5 objects at random non-overlapping positions in
64x64 images; here the scene is a layout on a grid of cells (`render` draws one glyph per cell).
"""

from __future__ import annotations

import string

import numpy as np

OBJECTS: tuple[str, ...] = tuple(string.ascii_uppercase + string.digits)
RELATIONS: tuple[str, ...] = ("left_of", "right_of", "above", "below")


def rhs_split(
    rhs_per_lhs: int, seed: int = 0, vocabulary: int = len(OBJECTS)
) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """(train pairs, test pairs) of object indices; each X gets ``rhs_per_lhs`` distinct Y != X for training.

    ``vocabulary``: use only the first that many objects (a smaller SQOOP for quick runs; 36 is the paper's).
    """
    n = vocabulary
    if not 2 <= n <= len(OBJECTS):
        raise ValueError(f"vocabulary must be in 2..{len(OBJECTS)}, got {n}")
    if not 1 <= rhs_per_lhs <= n - 1:
        raise ValueError(f"rhs_per_lhs must be in 1..{n - 1}, got {rhs_per_lhs}")
    rng = np.random.default_rng(seed)
    train = []
    for x in range(n):
        others = np.array([y for y in range(n) if y != x])
        for y in sorted(rng.choice(others, size=rhs_per_lhs, replace=False).tolist()):
            train.append((x, int(y)))
    seen = set(train)
    test = [(x, y) for x in range(n) for y in range(n) if x != y and (x, y) not in seen]
    return train, test


def answer(relation: str, pos_x: tuple[int, int], pos_y: tuple[int, int]) -> bool:
    """Truth of "X relation Y" for (row, col) cells; rows grow downwards."""
    (rx, cx), (ry, cy) = pos_x, pos_y
    if relation == "left_of":
        return cx < cy
    if relation == "right_of":
        return cx > cy
    if relation == "above":
        return rx < ry
    if relation == "below":
        return rx > ry
    raise ValueError(f"unknown relation {relation!r}; expected one of {RELATIONS}")


def make_questions(
    pairs: list[tuple[int, int]],
    n: int,
    grid: int = 5,
    n_objects: int = 5,
    seed: int = 0,
    vocabulary: int = len(OBJECTS),
) -> list[dict]:
    """``n`` scenes, each with one question about a pair from ``pairs``, answers balanced by rejection.

    Each scene holds X, Y and ``n_objects - 2`` other distinct objects in distinct cells of a
    ``grid`` x ``grid`` board. Returns dicts with ``lhs``, ``relation``, ``rhs``, ``answer``, ``objects``
    (indices) and ``cells`` ((row, col) per object). Distractors come from the first ``vocabulary`` objects.
    """
    if not pairs:
        raise ValueError("pairs is empty")
    if not 2 <= n_objects <= min(vocabulary, grid * grid):
        raise ValueError(f"n_objects must be in 2..{min(vocabulary, grid * grid)}, got {n_objects}")
    rng = np.random.default_rng(seed)
    out: list[dict] = []
    while len(out) < n:
        x, y = pairs[int(rng.integers(len(pairs)))]
        rel = RELATIONS[int(rng.integers(len(RELATIONS)))]
        want = len(out) % 2 == 0
        others = [o for o in range(vocabulary) if o not in (x, y)]
        objs = [x, y, *rng.choice(others, size=n_objects - 2, replace=False).tolist()]
        for _ in range(100):
            flat = rng.choice(grid * grid, size=n_objects, replace=False)
            cells = [(int(c // grid), int(c % grid)) for c in flat]
            if answer(rel, cells[0], cells[1]) == want:
                break
        else:
            continue
        out.append({"lhs": x, "relation": rel, "rhs": y, "answer": want, "objects": objs, "cells": cells})
    return out
