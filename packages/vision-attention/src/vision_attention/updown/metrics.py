"""Caption metrics: corpus BLEU-1..4 (Papineni et al. 2002) and CIDEr-D (Vedantam et al. 2015), written
to give the numbers of the COCO caption evaluation code (`pycocoevalcap`) on tokenised captions (compared
in tools/bench/vision_attention.py), without its Java tokeniser.

Inputs: ``candidates = {image_id: caption}`` and ``references = {image_id: [caption, ...]}`` with
lower-case, space-separated words.

- BLEU: clipped n-gram precisions summed over the corpus, geometric mean of orders 1..n, brevity
  penalty exp(1 - r/c) when the candidate corpus length c is below r, the sum over captions of the
  reference length closest to each candidate (ties to the shorter), as COCO's "closest" option.
- CIDEr-D: per order n = 1..4 the TF-IDF vectors g (term count times log(N / max(1, df)), df = number of
  images whose references contain the n-gram, N = number of images); the candidate's counts clipped
  to each reference's (``min(g_c, g_r) * g_r``), divided by both norms, times the Gaussian length penalty
  exp(-(l_c - l_r)^2 / (2 sigma^2)) with sigma = 6; averaged over references and orders, times 10.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence

from core.errors import InputError

__all__ = ["bleu", "cider_d", "cider_d_per_image", "document_frequency", "ngrams"]

_TINY, _SMALL = 1e-15, 1e-9  # the COCO scorer's smoothing constants, kept so the numbers agree to 1e-9


def ngrams(words: Sequence[str], n: int) -> Counter:
    """Counts of the n-grams (tuples) of `words` for one order `n`."""
    return Counter(tuple(words[i : i + n]) for i in range(len(words) - n + 1))


def _check(candidates: Mapping, references: Mapping) -> list:
    if not candidates:
        raise InputError("no candidate captions to score")
    missing = [key for key in candidates if key not in references or not references[key]]
    if missing:
        raise InputError("a candidate caption has no reference captions", item=missing[0])
    return list(candidates)


def bleu(candidates: Mapping, references: Mapping, max_n: int = 4) -> list[float]:
    """Corpus ``[BLEU-1, ..., BLEU-max_n]`` (see the module docstring)."""
    keys = _check(candidates, references)
    correct, total = [0] * max_n, [0] * max_n
    candidate_length = reference_length = 0
    for key in keys:
        words = candidates[key].split()
        refs = [r.split() for r in references[key]]
        candidate_length += len(words)
        reference_length += min((abs(len(r) - len(words)), len(r)) for r in refs)[1]
        for n in range(1, max_n + 1):
            counts = ngrams(words, n)
            best: Counter = Counter()
            for r in refs:
                best |= ngrams(r, n)
            correct[n - 1] += sum(min(c, best[g]) for g, c in counts.items())
            total[n - 1] += max(len(words) - n + 1, 0)
    scores, product = [], 1.0
    for n in range(max_n):
        product *= (correct[n] + _TINY) / (total[n] + _SMALL)
        scores.append(product ** (1.0 / (n + 1)))
    ratio = (candidate_length + _TINY) / (reference_length + _SMALL)
    if ratio < 1:
        scores = [s * math.exp(1 - 1 / ratio) for s in scores]
    return scores


def _tfidf(counts: Counter, frequency: Counter, log_images: float) -> tuple[dict, float]:
    vector = {g: c * (log_images - math.log(max(1.0, frequency[g]))) for g, c in counts.items()}
    return vector, math.sqrt(sum(v * v for v in vector.values()))


def document_frequency(references: Mapping, max_n: int = 4) -> tuple[Counter, int]:
    """``(df, number of images)``: for each n-gram, how many images' references contain it."""
    frequency: Counter = Counter()
    for refs in references.values():
        seen = set()
        for r in refs:
            words = r.split()
            for n in range(1, max_n + 1):
                seen |= set(ngrams(words, n))
        frequency.update(seen)
    return frequency, len(references)


def cider_d_per_image(
    candidates: Mapping,
    references: Mapping,
    sigma: float = 6.0,
    max_n: int = 4,
    *,
    corpus: tuple[Counter, int] | None = None,
) -> dict:
    """``{image_id: CIDEr-D}``.

    Document frequencies come from the references of the images scored, unless `corpus` (a
    `document_frequency` result, e.g. of the training set, as self-critical training uses) is given.
    """
    keys = _check(candidates, references)
    frequency, images = (
        corpus if corpus is not None else document_frequency({k: references[k] for k in keys}, max_n)
    )
    log_images = math.log(float(images))
    scores = {}
    for key in keys:
        words = candidates[key].split()
        refs = [r.split() for r in references[key]]
        total = 0.0
        for n in range(1, max_n + 1):
            vector, norm = _tfidf(ngrams(words, n), frequency, log_images)
            for r in refs:
                ref_vector, ref_norm = _tfidf(ngrams(r, n), frequency, log_images)
                overlap = sum(
                    min(v, ref_vector.get(g, 0.0)) * ref_vector.get(g, 0.0) for g, v in vector.items()
                )
                if norm and ref_norm:
                    overlap /= norm * ref_norm
                total += overlap * math.exp(-((len(words) - len(r)) ** 2) / (2 * sigma**2))
        scores[key] = 10.0 * total / (max_n * len(refs))
    return scores


def cider_d(candidates: Mapping, references: Mapping, sigma: float = 6.0) -> float:
    """Corpus CIDEr-D: the mean of `cider_d_per_image`."""
    scores = cider_d_per_image(candidates, references, sigma)
    return sum(scores.values()) / len(scores)
