"""Loaders for the real data's annotation formats, for users who have it (nothing is downloaded here).

- COCO captions (``captions_train2014.json``): ``{"images": [{"id", "file_name", ...}], "annotations":
  [{"image_id", "id", "caption"}]}`` -> ``{image_id: [caption, ...]}``, captions lower-cased with
  punctuation split off (the COCO evaluation tokenises the same way before scoring).
- VQA v2 (``v2_OpenEnded_mscoco_train2014_questions.json`` + ``v2_mscoco_train2014_annotations.json``):
  questions ``{"questions": [{"image_id", "question", "question_id"}]}`` and annotations ``{"annotations":
  [{"question_id", "image_id", "answers": [{"answer", ...} x 10], ...}]}`` -> `VQAExample` rows with the
  soft score of each answer, min(1, humans who gave it / 3) (Teney et al. 2018, used by the paper).

Every malformed file raises an `InputError` naming the file and the offending entry.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import InputError

__all__ = ["VQAExample", "load_coco_captions", "load_vqa", "tokenize"]

_PUNCTUATION = re.compile(r"[^\w\s]")


def tokenize(text: str) -> str:
    """Lower-case words, punctuation removed, single spaces."""
    return " ".join(_PUNCTUATION.sub(" ", text.lower()).split())


def _json(path: str | Path) -> Any:
    source = Path(path)
    if not source.is_file():
        raise InputError("annotation file not found", item=str(source))
    try:
        return json.loads(source.read_text())
    except json.JSONDecodeError as exc:
        raise InputError(
            f"not valid JSON (line {exc.lineno}, column {exc.colno})", item=str(source)
        ) from None


def _entries(data: Any, key: str, source: str | Path) -> list:
    if not isinstance(data, dict) or not isinstance(data.get(key), list):
        raise InputError(f"expected a JSON object with a list under {key!r}", item=str(source))
    return data[key]


def _field(entry: Any, name: str, kind: type, where: str) -> Any:
    if not isinstance(entry, dict) or name not in entry:
        raise InputError(f"entry lacks the field {name!r}", item=where)
    value = entry[name]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise InputError(f"field {name!r} must be a {kind.__name__}", item=f"{where}: {value!r}")
    return value


def load_coco_captions(path: str | Path) -> dict[int, list[str]]:
    """``{image_id: [tokenised caption, ...]}`` from a COCO captions file (see the module docstring)."""
    data = _json(path)
    captions: dict[int, list[str]] = {}
    for i, entry in enumerate(_entries(data, "annotations", path)):
        where = f"{path}, annotations[{i}]"
        image = _field(entry, "image_id", int, where)
        captions.setdefault(image, []).append(tokenize(_field(entry, "caption", str, where)))
    if not captions:
        raise InputError("the captions file holds no annotations", item=str(path))
    return captions


@dataclass(frozen=True)
class VQAExample:
    """One question: ``scores`` maps each answer given by the annotators to min(1, count / 3)."""

    question_id: int
    image_id: int
    question: str
    scores: dict[str, float]


def load_vqa(questions: str | Path, annotations: str | Path) -> list[VQAExample]:
    """The VQA v2 questions joined with their answers (see the module docstring).

    Raises:
        InputError: a malformed file, an entry lacking a field, or a question without annotation.
    """
    asked = {}
    for i, entry in enumerate(_entries(_json(questions), "questions", questions)):
        where = f"{questions}, questions[{i}]"
        asked[_field(entry, "question_id", int, where)] = (
            _field(entry, "image_id", int, where),
            tokenize(_field(entry, "question", str, where)),
        )
    answered = {}
    for i, entry in enumerate(_entries(_json(annotations), "annotations", annotations)):
        where = f"{annotations}, annotations[{i}]"
        answers = _field(entry, "answers", list, where)
        counts = Counter(
            tokenize(_field(a, "answer", str, f"{where}, answers[{j}]")) for j, a in enumerate(answers)
        )
        answered[_field(entry, "question_id", int, where)] = {a: min(1.0, c / 3) for a, c in counts.items()}
    examples = []
    for question_id, (image, text) in asked.items():
        if question_id not in answered:
            raise InputError("question has no annotation", item=f"{questions}: question_id {question_id}")
        examples.append(VQAExample(question_id, image, text, answered[question_id]))
    return examples
