"""The secret sharer (Carlini et al. 2019; summary sec. 17): exposure of a canary in a character LM.

A canary ``"my number is " + s`` with a random digit string ``s`` is inserted into the training text
of a character-level GRU language model. For every candidate ``r`` in the space ``R`` of digit strings
of the same length, the model's log-perplexity ``P(r) = -sum log2 p(r_i | prefix, r_<i)`` ranks the
candidates; `exposure` is ``log2 |R| - log2 rank(s)`` (rank 1 = lowest perplexity), computed exactly by
enumerating ``R`` and, as in the paper's section 4.3, by `skew_normal_exposure`: a skew-normal fitted
to the perplexities of a sample of candidates gives ``-log2 CDF(P(s))``.

Text: the docstrings of Python standard-library modules (`stdlib_text`; PSF licence, they ship with
every Python), so nothing is downloaded. The mitigation studied is early stopping on held-out text
here; DP-SGD, the paper's remedy, is `robust.analyses.dp_sgd`.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from core.cli import RunOptions
from core.errors import InputError
from core.results import ResultTable

__all__ = [
    "SECRET",
    "CharLM",
    "candidate_perplexities",
    "exposure",
    "setup",
    "skew_normal_exposure",
    "stdlib_text",
    "study",
]

SECRET = {
    "smoke": {"digits": 4, "insertions": 4, "epochs": 20, "hidden": 128, "chars": 20000, "sample": 1000},
    "full": {"digits": 6, "insertions": 4, "epochs": 60, "hidden": 256, "chars": 200000, "sample": 5000},
}
"""Canary digits (|R| = 10^digits), canary copies inserted, epochs, GRU width, text characters,
candidates sampled for the skew-normal fit."""

_MODULES = (
    "string", "textwrap", "json", "collections", "functools", "itertools", "pathlib", "argparse",
    "logging", "random", "statistics", "fractions", "decimal", "heapq", "bisect", "csv", "zipfile",
    "tarfile", "shutil", "tempfile", "subprocess", "threading", "queue", "socket", "email", "http",
    "urllib", "unittest", "doctest", "pdb", "inspect", "typing", "dataclasses", "enum", "abc",
)  # fmt: skip


def stdlib_text(chars: int) -> str:
    """Up to `chars` lower-cased characters of standard-library module and member docstrings."""
    import importlib

    parts: list[str] = []
    for name in _MODULES:
        module = importlib.import_module(name)
        for obj in [module, *(getattr(module, k) for k in sorted(vars(module)) if not k.startswith("_"))]:
            doc = getattr(obj, "__doc__", None)
            if isinstance(doc, str) and len(doc) > 40:
                parts.append(" ".join(doc.lower().split()))
    text = " ".join(dict.fromkeys(parts))  # de-duplicated, order kept
    allowed = set("abcdefghijklmnopqrstuvwxyz0123456789 .,;:'()-")
    return "".join(c for c in text if c in allowed)[:chars]


class CharLM(nn.Module):
    """Embedding -> one-layer GRU -> linear: next-character logits ``(n, t, vocab)``."""

    def __init__(self, vocab: int, hidden: int):
        super().__init__()
        self.embed, self.gru, self.out = (
            nn.Embedding(vocab, 32),
            nn.GRU(32, hidden, batch_first=True),
            nn.Linear(hidden, vocab),
        )

    def forward(self, tokens: Tensor) -> Tensor:
        return self.out(self.gru(self.embed(tokens))[0])


def candidate_perplexities(
    model: CharLM, prefix: Tensor, candidates: Tensor, batch: int = 4096
) -> np.ndarray:
    """``(m,)`` log2-perplexity of each candidate token row ``(m, k)`` after the token row `prefix`."""
    out = []
    with torch.no_grad():
        for start in range(0, len(candidates), batch):
            cand = candidates[start : start + batch]
            tokens = torch.cat([prefix.expand(len(cand), -1), cand], 1)
            logp = torch.log_softmax(model(tokens[:, :-1]), -1)[:, len(prefix) - 1 :]
            picked = logp.gather(2, cand.unsqueeze(2)).squeeze(2)
            out.append((-picked.sum(1) / np.log(2)).numpy())
    return np.concatenate(out)


def exposure(perplexities: np.ndarray, index: int) -> float:
    """Exact exposure of candidate `index`: ``log2 |R| - log2 rank`` (ties ranked in the canary's favour)."""
    if not 0 <= index < len(perplexities):
        raise InputError(f"canary index {index} outside the {len(perplexities)} candidates")
    rank = 1 + int(np.sum(perplexities < perplexities[index]))
    return float(np.log2(len(perplexities)) - np.log2(rank))


def skew_normal_exposure(sample: np.ndarray, canary: float) -> float:
    """``-log2 CDF(canary)`` under a skew-normal fitted (maximum likelihood) to sampled perplexities."""
    from scipy.stats import skewnorm

    a, loc, scale = skewnorm.fit(sample)
    return float(-skewnorm.logcdf(canary, a, loc, scale) / np.log(2))


def _windows(ids: Tensor, length: int) -> Tensor:
    starts = range(0, len(ids) - length - 1, length // 2)
    return torch.stack([ids[s : s + length + 1] for s in starts])


def setup(budget: dict, seed: int) -> dict:
    """The text with its inserted canary, token windows, vocabulary and candidate set of one run.

    Keys: ``secret``, ``prefix``, ``text``, ``vocab``, ``index`` (char -> id), ``train`` / ``valid``
    (token windows of 65), ``candidates`` (every digit string as token rows, in numeric order),
    ``secret_index``, ``prefix_ids``, ``sample`` (candidates for the skew-normal fit), ``data`` (a line).
    """
    rng = np.random.default_rng(seed)
    k = budget["digits"]
    secret = "".join(str(d) for d in rng.integers(0, 10, k))
    prefix = "my number is "
    text = stdlib_text(budget["chars"])
    cut = int(0.9 * len(text))
    train_text, valid_text = text[:cut], text[cut:]
    pieces = np.array_split(np.array(list(train_text)), budget["insertions"] + 1)
    canary = f" {prefix}{secret}. "
    train_text = canary.join("".join(p) for p in pieces)
    vocab = sorted(set(text) | set(canary))
    index = {c: i for i, c in enumerate(vocab)}

    def encode(s: str) -> Tensor:
        return torch.tensor([index[c] for c in s])

    candidates = torch.tensor(list(itertools.product(range(10), repeat=k)))
    digit_ids = torch.tensor([index[str(d)] for d in range(10)])
    candidates = digit_ids[candidates]
    sample = rng.choice(len(candidates), budget["sample"], replace=False)
    return {
        "secret": secret,
        "prefix": prefix,
        "text": text,
        "vocab": vocab,
        "index": index,
        "train": _windows(encode(train_text), 64),
        "valid": _windows(encode(valid_text), 64),
        "candidates": candidates,
        "secret_index": int(secret),  # product order is lexicographic, i.e. numeric
        "prefix_ids": encode(prefix),
        "sample": sample,
        "data": (
            f"Python standard-library docstrings, {len(text)} characters (90% train + canary, 10% held out); "
            f"|R| = 10^{k}"
        ),
    }


def study(options: RunOptions) -> list[ResultTable]:
    """Exposure over epochs (exact and skew-normal), validation loss, and exposure at early stopping."""
    from core.plots import new_figure, save_figure

    budget = SECRET[options.scale]
    k = budget["digits"]
    run = setup(budget, options.seed)
    prefix, vocab, train, valid = run["prefix"], run["vocab"], run["train"], run["valid"]
    candidates, secret_index, sample = run["candidates"], run["secret_index"], run["sample"]

    def encode(s: str) -> Tensor:
        return torch.tensor([run["index"][c] for c in s])

    torch.manual_seed(options.seed)
    model = CharLM(len(vocab), budget["hidden"])
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    generator = torch.Generator().manual_seed(options.seed)
    table = ResultTable(
        "secret_sharer",
        title=f"Secret sharer: exposure of the canary '{prefix}<{k} digits>' ({budget['insertions']} copies) by epoch",
        data=run["data"],
        notes=(
            f"exposure_exact by enumerating all 10^{k} candidates; exposure_skewnorm from a skew-normal fitted to "
            f"{budget['sample']} sampled candidates' perplexities; maximum log2|R| = {np.log2(len(candidates)):.2f}. "
            "Paper (sec. 17): exposure grows during training, already high before the validation loss "
            "bottoms out; early stopping does not remove it, DP-SGD does."
        ),
    )
    loss_fn = nn.functional.cross_entropy
    for epoch in range(1, budget["epochs"] + 1):
        model.train()
        for batch in torch.randperm(len(train), generator=generator).split(32):
            seq = train[batch]
            loss = loss_fn(model(seq[:, :-1]).flatten(0, 1), seq[:, 1:].flatten())
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        model.eval()
        with torch.no_grad():
            valid_loss = float(loss_fn(model(valid[:, :-1]).flatten(0, 1), valid[:, 1:].flatten()))
        perplexities = candidate_perplexities(model, encode(prefix), candidates)
        table.add(
            epoch=epoch,
            valid_bits_per_char=float(valid_loss / np.log(2)),
            canary_log_perplexity=float(perplexities[secret_index]),
            exposure_exact=exposure(perplexities, secret_index),
            exposure_skewnorm=skew_normal_exposure(perplexities[sample], perplexities[secret_index]),
        )
    best = min(table.rows, key=lambda row: row["valid_bits_per_char"])
    summary = ResultTable(
        "secret_sharer_stopping",
        title="Secret sharer: exposure at the early-stopping epoch (lowest held-out loss) and at the end",
        data=table.data,
    )
    for name, row in (("early stopping", best), ("last epoch", table.rows[-1])):
        summary.add(point=name, **row)
    options.publish(table)
    options.publish(summary)
    figure = new_figure(5, 3.6)
    axis = figure.add_subplot(1, 1, 1)
    epochs = [row["epoch"] for row in table.rows]
    axis.plot(epochs, [row["exposure_exact"] for row in table.rows], "o-", label="exposure (enumeration)")
    axis.plot(epochs, [row["exposure_skewnorm"] for row in table.rows], "x--", label="exposure (skew-normal)")
    axis.axvline(best["epoch"], color="grey", linestyle=":", label="early stop")
    twin = axis.twinx()
    twin.plot(
        epochs, [row["valid_bits_per_char"] for row in table.rows], color="C3", label="held-out bits/char"
    )
    axis.set(xlabel="epoch", ylabel="exposure (bits)", title="secret sharer")
    axis.legend(fontsize=7)
    save_figure(figure, Path(options.out) / "secret_sharer.png")
    return [table, summary]
