"""CLEVR-like synthetic scenes: coloured shapes at random positions, with boxes, captions and questions.

Each scene holds 2-4 objects (shape in square/circle/triangle, colour in red/green/blue/yellow, size
small/large) on a grey canvas, boxes never overlapping. Captions name two objects and their relation
("a large red circle left of a small blue square"); every ordered pair of objects gives one reference
caption, so a scene has 2-12 references (as COCO's five). Questions follow five templates with one answer
each: colour of a unique shape, shape of a unique colour, count of a colour, existence of a colour-shape,
relation of two unique objects (yes/no).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from vision_attention.updown.config import SceneConfig

__all__ = ["COLORS", "RELATIONS", "SHAPES", "SIZES", "Scene", "SceneObject", "make_scenes"]

SHAPES = ("square", "circle", "triangle")
COLORS = {
    "red": (0.9, 0.1, 0.1),
    "green": (0.1, 0.8, 0.2),
    "blue": (0.15, 0.3, 0.95),
    "yellow": (0.95, 0.85, 0.1),
}
SIZES = {"small": 9, "large": 15}
RELATIONS = ("left of", "right of", "above", "below")


@dataclass(frozen=True)
class SceneObject:
    shape: str
    color: str
    size: str
    box: tuple[int, int, int, int]  # x0, y0, x1, y1 in pixels, x1/y1 exclusive

    @property
    def center(self) -> tuple[float, float]:
        return (self.box[0] + self.box[2]) / 2, (self.box[1] + self.box[3]) / 2

    def phrase(self) -> str:
        return f"a {self.size} {self.color} {self.shape}"


@dataclass
class Scene:
    """One image with its objects, reference captions and (question, answer) pairs.

    Attributes:
        image: ``(3, size, size)`` float32 in [0, 1].
        objects: the objects, in drawing order.
        captions: reference captions (lower-case, space-separated words).
        questions: ``(question, answer)`` pairs.
    """

    image: np.ndarray
    objects: list[SceneObject]
    captions: list[str] = field(default_factory=list)
    questions: list[tuple[str, str]] = field(default_factory=list)

    @property
    def boxes(self) -> np.ndarray:
        """``(k, 4)`` float32 boxes (x0, y0, x1, y1)."""
        return np.array([o.box for o in self.objects], dtype=np.float32)


def relation(a: SceneObject, b: SceneObject) -> str:
    """Where `a` is relative to `b`, along the axis on which their centres differ most."""
    (ax, ay), (bx, by) = a.center, b.center
    if abs(ax - bx) >= abs(ay - by):
        return "left of" if ax < bx else "right of"
    return "above" if ay < by else "below"


def _draw(image: np.ndarray, obj: SceneObject) -> None:
    x0, y0, x1, y1 = obj.box
    side = x1 - x0
    yy, xx = np.mgrid[0:side, 0:side] + 0.5
    if obj.shape == "square":
        inside = np.ones((side, side), dtype=bool)
    elif obj.shape == "circle":
        inside = (xx - side / 2) ** 2 + (yy - side / 2) ** 2 <= (side / 2) ** 2
    else:  # triangle, apex up
        inside = np.abs(xx - side / 2) <= yy / 2
    region = image[:, y0:y1, x0:x1]
    region[:, inside] = np.array(COLORS[obj.color], dtype=np.float32)[:, None]


def _captions(objects: list[SceneObject]) -> list[str]:
    return [
        f"{a.phrase()} {relation(a, b)} {b.phrase()}"
        for i, a in enumerate(objects)
        for j, b in enumerate(objects)
        if i != j
    ]


def _questions(objects: list[SceneObject], rng: np.random.Generator) -> list[tuple[str, str]]:
    pairs = []
    shapes = [o.shape for o in objects]
    colors = [o.color for o in objects]
    for o in objects:
        if shapes.count(o.shape) == 1:
            pairs.append((f"what color is the {o.shape}", o.color))
        if colors.count(o.color) == 1:
            pairs.append((f"what shape is the {o.color} object", o.shape))
    color = str(rng.choice(list(COLORS)))
    pairs.append((f"how many {color} objects are there", str(colors.count(color))))
    shape, color = str(rng.choice(SHAPES)), str(rng.choice(list(COLORS)))
    present = any(o.shape == shape and o.color == color for o in objects)
    pairs.append((f"is there a {color} {shape}", "yes" if present else "no"))
    unique = [o for o in objects if sum(p.shape == o.shape and p.color == o.color for p in objects) == 1]
    if len(unique) >= 2:
        a, b = (unique[i] for i in rng.choice(len(unique), 2, replace=False))
        asked = str(rng.choice(RELATIONS))
        pairs.append(
            (
                f"is the {a.color} {a.shape} {asked} the {b.color} {b.shape}",
                "yes" if relation(a, b) == asked else "no",
            )
        )
    return pairs


def make_scenes(count: int, config: SceneConfig | None = None) -> list[Scene]:
    """`count` scenes drawn from ``config.seed`` (the same seed always gives the same scenes)."""
    config = config or SceneConfig()
    rng = np.random.default_rng(config.seed)
    scenes = []
    while len(scenes) < count:
        wanted = int(rng.integers(config.min_objects, config.max_objects + 1))
        objects: list[SceneObject] = []
        for _ in range(50 * wanted):
            if len(objects) == wanted:
                break
            size = str(rng.choice(list(SIZES)))
            side = SIZES[size]
            x0, y0 = (int(v) for v in rng.integers(0, config.size - side + 1, size=2))
            box = (x0, y0, x0 + side, y0 + side)
            if any(
                box[0] < o.box[2] and o.box[0] < box[2] and box[1] < o.box[3] and o.box[1] < box[3]
                for o in objects
            ):
                continue
            objects.append(SceneObject(str(rng.choice(SHAPES)), str(rng.choice(list(COLORS))), size, box))
        if len(objects) < config.min_objects:
            continue
        image = np.full((3, config.size, config.size), 0.5, dtype=np.float32)
        for obj in objects:
            _draw(image, obj)
        scenes.append(Scene(image, objects, _captions(objects), _questions(objects, rng)))
    return scenes
