"""Benchmark: vision-attention against the peers a user would otherwise call directly.

1. Saliency: each method through `vision_attention.saliency.methods.attribute` against the same Captum
   class called directly on the same model (a trained-shape `DigitCNN` on 28x28 inputs) and inputs: the
   largest absolute difference of the maps (expected 0) and the time ratio (ours / Captum, median of
   repeats, `core.timing.measure`, one CPU thread).
2. Caption metrics: BLEU-1..4 and CIDEr-D of `vision_attention.updown.metrics` against `pycocoevalcap`'s
   Bleu and Cider scorers (the COCO caption evaluation; its Java tokeniser is not used: captions are
   already tokenised) on the same captions: synthetic-scene captions from a fixed generator with words
   dropped and swapped, the absolute difference (expected <= 1e-6) and the time ratio.
3. Group Normalization: `vision_attention.groupnorm.layer.GroupNorm` against `torch.nn.GroupNorm` on the
   same activations (forward + backward), the largest absolute difference of outputs and input gradients
   (float32) and the time ratio.
4. OoD metrics: `vision_attention.confidence.metrics` AUROC and FPR at 95% TPR against scikit-learn's
   `roc_auc_score` and `roc_curve` (the smallest FPR with TPR >= 0.95) on the same scores, continuous and
   tied: the absolute difference (expected <= 1e-12) and the time ratio.

    uv run --group bench python tools/bench/vision_attention.py [--images 64] [--out runs/bench] [--tables ood]
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

# this file is named like the package it benchmarks: keep its folder off the import path
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != Path(__file__).resolve().parent]

import torch  # noqa: E402

from core.cli import output_folder, positive_int  # noqa: E402
from core.provenance import provenance  # noqa: E402
from core.results import ResultTable  # noqa: E402
from core.timing import measure  # noqa: E402
from vision_attention.confidence.metrics import auroc, fpr_at_tpr  # noqa: E402
from vision_attention.groupnorm.layer import GroupNorm  # noqa: E402
from vision_attention.saliency.methods import METHODS, attribute  # noqa: E402
from vision_attention.saliency.models import DigitCNN  # noqa: E402
from vision_attention.training import build_model  # noqa: E402
from vision_attention.updown.metrics import bleu, cider_d  # noqa: E402
from vision_attention.updown.scenes import make_scenes  # noqa: E402

REPEATS = 7


def captum_direct(model, inputs, targets, name):
    """The same attributions written against Captum's API, as a user would without this package."""
    from captum.attr import (
        GuidedBackprop,
        GuidedGradCam,
        InputXGradient,
        IntegratedGradients,
        LayerAttribution,
        LayerGradCam,
        NoiseTunnel,
        Saliency,
    )

    x = inputs.clone().requires_grad_(True)
    if name == "gradient":
        return Saliency(model).attribute(x, target=targets, abs=False)
    if name == "gradient-x-input":
        return InputXGradient(model).attribute(x, target=targets)
    if name == "integrated-gradients":
        return IntegratedGradients(model).attribute(x, baselines=0.0, target=targets, n_steps=50)
    if name == "guided-backprop":
        return GuidedBackprop(model).attribute(x, target=targets)
    if name == "smoothgrad":
        spread = float(inputs.max() - inputs.min())
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            return NoiseTunnel(Saliency(model)).attribute(
                x, nt_type="smoothgrad", nt_samples=16, stdevs=0.15 * spread, target=targets, abs=False
            )
    if name == "grad-cam":
        cam = LayerGradCam(model, model.conv2).attribute(x, target=targets, relu_attributions=True)
        return LayerAttribution.interpolate(cam, (28, 28), interpolate_mode="bilinear")
    return GuidedGradCam(model, model.conv2).attribute(x, target=targets, interpolate_mode="bilinear")


def saliency_table(images: int) -> ResultTable:
    model = build_model(lambda: DigitCNN(28), 0).eval()
    inputs = torch.rand(images, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    targets = torch.arange(images) % 10
    table = ResultTable(
        "bench_vision_attention_saliency",
        title=f"Saliency maps: this package vs Captum called directly ({images} 28x28 images, 1 thread)",
        notes="max |diff|: largest absolute difference of the two maps; time ratio: ours / Captum (median of "
        f"{REPEATS} repeats after a warm-up).",
        data="uniform random 28x28 inputs, DigitCNN initialised with seed 0",
    )
    for name in METHODS:
        ours = measure(lambda name=name: attribute(model, inputs, targets, name), repeats=REPEATS)
        peer = measure(
            lambda name=name: captum_direct(model, inputs, targets, name).detach(), repeats=REPEATS
        )
        table.add(
            method=name,
            max_abs_diff=float((ours.last_value - peer.last_value).abs().max()),
            ours_ms=1e3 * ours.median,
            captum_ms=1e3 * peer.median,
            time_ratio=ours.median / peer.median,
        )
    return table


def caption_corpus(count: int) -> tuple[dict, dict]:
    rng = random.Random(0)
    scenes = make_scenes(count)
    references = {i: s.captions for i, s in enumerate(scenes)}
    candidates = {}
    for i, s in enumerate(scenes):
        words = rng.choice(s.captions).split()
        if rng.random() < 0.5 and len(words) > 3:
            del words[rng.randrange(len(words))]
        if rng.random() < 0.5:
            a, b = rng.randrange(len(words)), rng.randrange(len(words))
            words[a], words[b] = words[b], words[a]
        candidates[i] = " ".join(words)
    return candidates, references


def metrics_table(count: int) -> ResultTable:
    from pycocoevalcap.bleu.bleu import Bleu
    from pycocoevalcap.cider.cider import Cider

    candidates, references = caption_corpus(count)
    wrapped = {k: [v] for k, v in candidates.items()}
    table = ResultTable(
        "bench_vision_attention_metrics",
        title=f"Caption metrics: this package vs pycocoevalcap ({count} captions)",
        notes="abs diff: |ours - pycocoevalcap|; time ratio: ours / pycocoevalcap (median of repeats).",
        data="synthetic-scene captions (vision_attention.updown.scenes, seed 0), candidates perturbed (seed 0)",
    )
    ours_bleu = measure(lambda: bleu(candidates, references), repeats=REPEATS)
    peer_bleu = measure(lambda: Bleu(4).compute_score(references, wrapped, verbose=0)[0], repeats=REPEATS)
    for n in range(4):
        table.add(
            metric=f"BLEU-{n + 1}",
            ours=ours_bleu.last_value[n],
            pycocoevalcap=peer_bleu.last_value[n],
            abs_diff=abs(ours_bleu.last_value[n] - peer_bleu.last_value[n]),
            time_ratio=ours_bleu.median / peer_bleu.median if n == 3 else None,
        )
    ours_cider = measure(lambda: cider_d(candidates, references), repeats=REPEATS)
    peer_cider = measure(lambda: Cider().compute_score(references, wrapped)[0], repeats=REPEATS)
    table.add(
        metric="CIDEr-D",
        ours=ours_cider.last_value,
        pycocoevalcap=float(peer_cider.last_value),
        abs_diff=abs(ours_cider.last_value - float(peer_cider.last_value)),
        time_ratio=ours_cider.median / peer_cider.median,
    )
    return table


def groupnorm_table() -> ResultTable:
    table = ResultTable(
        "bench_vision_attention_groupnorm",
        title="GroupNorm: this package vs torch.nn.GroupNorm (forward + backward, 1 thread)",
        notes="max |diff|: largest absolute difference of the outputs / input gradients (float32); time ratio: "
        f"ours / torch (median of {REPEATS} repeats after a warm-up).",
        data="standard normal activations, generator seed 0",
    )
    for shape, groups in (((32, 16, 8, 8), 4), ((2, 32, 8, 8), 8), ((8, 64, 28, 28), 32)):
        x = torch.randn(shape, generator=torch.Generator().manual_seed(0))
        upstream = torch.randn(shape, generator=torch.Generator().manual_seed(1))

        def run(layer, x=x, upstream=upstream):
            inputs = x.clone().requires_grad_()
            out = layer(inputs)
            (out * upstream).sum().backward()
            return out.detach(), inputs.grad

        ours = measure(lambda g=groups, c=shape[1]: run(GroupNorm(g, c)), repeats=REPEATS)
        peer = measure(lambda g=groups, c=shape[1]: run(torch.nn.GroupNorm(g, c)), repeats=REPEATS)
        table.add(
            shape="x".join(map(str, shape)),
            groups=groups,
            max_abs_diff_out=float((ours.last_value[0] - peer.last_value[0]).abs().max()),
            max_abs_diff_grad=float((ours.last_value[1] - peer.last_value[1]).abs().max()),
            ours_ms=1e3 * ours.median,
            torch_ms=1e3 * peer.median,
            time_ratio=ours.median / peer.median,
        )
    return table


def ood_table() -> ResultTable:
    import numpy as np
    from sklearn.metrics import roc_auc_score, roc_curve

    table = ResultTable(
        "bench_vision_attention_ood",
        title="OoD metrics: this package vs scikit-learn (AUROC, FPR at 95% TPR)",
        notes="abs diff: |ours - scikit-learn|; scikit-learn's FPR95 is the smallest FPR of `roc_curve` "
        f"(drop_intermediate=False) with TPR >= 0.95; time ratio: ours / scikit-learn (median of {REPEATS} repeats).",
        data="normal scores, in-distribution shifted by +1 (generator seed 0); 'tied': rounded to 0.1",
    )
    rng = np.random.default_rng(0)
    for size, tied in ((1000, False), (100_000, False), (100_000, True)):
        inside, outside = rng.normal(1, 1, size), rng.normal(0, 1, size)
        if tied:
            inside, outside = inside.round(1), outside.round(1)
        labels, scores = np.r_[np.ones(size), np.zeros(size)], np.r_[inside, outside]

        def peer_fpr(labels=labels, scores=scores):
            fpr, tpr, _ = roc_curve(labels, scores, drop_intermediate=False)
            return float(fpr[tpr >= 0.95].min())

        ours_auc = measure(lambda i=inside, o=outside: auroc(i, o), repeats=REPEATS)
        peer_auc = measure(lambda y=labels, x=scores: roc_auc_score(y, x), repeats=REPEATS)
        ours_fpr = measure(lambda i=inside, o=outside: fpr_at_tpr(i, o), repeats=REPEATS)
        peer = measure(peer_fpr, repeats=REPEATS)
        table.add(
            scores=f"{size} + {size}" + (" tied" if tied else ""),
            auroc=ours_auc.last_value,
            auroc_abs_diff=abs(ours_auc.last_value - peer_auc.last_value),
            fpr95=ours_fpr.last_value,
            fpr95_abs_diff=abs(ours_fpr.last_value - peer.last_value),
            auroc_time_ratio=ours_auc.median / peer_auc.median,
            fpr95_time_ratio=ours_fpr.median / peer.median,
        )
    return table


TABLES = {
    "saliency": lambda args: saliency_table(args.images),
    "metrics": lambda args: metrics_table(args.captions),
    "groupnorm": lambda args: groupnorm_table(),
    "ood": lambda args: ood_table(),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=positive_int, default=64, help="images per saliency call")
    parser.add_argument("--captions", type=positive_int, default=500, help="captions scored")
    parser.add_argument("--out", type=output_folder, default=Path("runs/bench"))
    parser.add_argument(
        "--tables", nargs="+", choices=sorted(TABLES), default=list(TABLES), help="tables to run"
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    record = provenance(package="vision-attention", seed=0, scale=f"images={args.images}", command=sys.argv)
    for name in args.tables:
        table = TABLES[name](args)
        print(table.to_markdown(), flush=True)
        print(f"written: {table.save(args.out, provenance=record)}\n", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
