"""``reproduce vision-attention --only infill``: FIDO saliency with heuristic vs generative in-fills.

Trains the canvas classifier and the in-painter (checkpointed under ``--out``), explains the first
correctly classified test canvases with every objective (SSR, SDR) and in-fill (mean, blur, noise,
generative), publishes one table of localisation scores against the digit's box and draws the maps.
"""

from __future__ import annotations

import time

import torch

from core.cli import RunOptions
from core.device import torch_threads
from core.results import ResultTable, mean_sd
from vision_attention.config import TrainConfig
from vision_attention.infill.config import INFILLS, OBJECTIVES, CanvasConfig, FidoConfig, InpainterConfig
from vision_attention.infill.data import load_canvases
from vision_attention.infill.figures import plot_fido_maps
from vision_attention.infill.study import (
    accuracy,
    box_share,
    explain_all,
    inpainting_error,
    train_classifier,
    train_inpainter,
)

__all__ = ["BUDGET", "PAPER", "run_infill"]

BUDGET = {
    # canvases, classifier / in-painter epochs, images explained, FIDO steps, seeds
    "smoke": {
        "train": 4000,
        "test": 500,
        "classifier": 8,
        "inpainter": 6,
        "explain": 32,
        "steps": 200,
        "seeds": 1,
    },
    "full": {
        "train": 20000,
        "test": 2000,
        "classifier": 30,
        "inpainter": 30,
        "explain": 500,
        "steps": 500,
        "seeds": 3,
    },
}
PAPER = (
    "generative in-fill: smaller, more compact regions on the object (best saliency metric and localisation); "
    "mean / blur / noise: artefact-driven, less localised"
)


def run_infill(options: RunOptions) -> list[ResultTable]:
    """The experiment; publishes the table and draws ``infill_maps.png`` into ``options.out``."""
    with torch_threads(options.threads or 1):
        return _run(options)


def _run(options: RunOptions) -> list[ResultTable]:
    budget = BUDGET[options.scale]
    out = options.out
    canvas = CanvasConfig()
    per: dict[tuple[str, str], list] = {}
    infos = []
    for k in range(budget["seeds"]):
        seed = options.seed + k
        began = time.perf_counter()
        train, test = load_canvases(canvas, budget["train"], budget["test"], seed=seed)
        classifier = train_classifier(
            train,
            TrainConfig(
                model="infill-classifier",
                epochs=budget["classifier"],
                batch_size=64,
                learning_rate=3e-3,
                seed=seed,
            ),
            checkpoint=out / "infill_checkpoints" / f"classifier_seed{seed}.safetensors",
            quiet=False,
        )
        inpainter = train_inpainter(
            train,
            InpainterConfig(),
            TrainConfig(
                model="infill-inpainter",
                epochs=budget["inpainter"],
                batch_size=64,
                learning_rate=2e-3,
                seed=seed,
            ),
            checkpoint=out / "infill_checkpoints" / f"inpainter_seed{seed}.safetensors",
            quiet=False,
        )
        trained = time.perf_counter() - began
        mean = float(train.images.mean())
        fido = FidoConfig(steps=budget["steps"], seed=seed)
        runs, rows = explain_all(
            classifier,
            inpainter,
            test,
            budget["explain"],
            fido,
            mean=mean,
            folder=out / "infill_checkpoints" / f"maps_seed{seed}",
            quiet=False,
        )
        infos.append(
            {
                "accuracy": accuracy(classifier, test.images, test.labels),
                "l1": inpainting_error(inpainter, test, seed=seed),
                "share": box_share(test.boxes[rows], canvas.canvas),
                "train_seconds": trained,
                "explained": len(rows),
            }
        )
        for key, (result, scores) in runs.items():
            per.setdefault(key, []).append((result, scores))
        if k == 0:
            shown = slice(0, 4)
            plot_fido_maps(
                test.images[rows][shown],
                test.boxes[rows][shown],
                {f"{o} {i}": runs[(o, i)][0].theta[shown] for o in OBJECTIVES for i in INFILLS},
                out / "infill_maps.png",
                title="FIDO maps (theta: kept for SSR, in-filled for SDR); cyan: the digit's box",
            )
    table = ResultTable(
        "infill",
        title="FIDO saliency: heuristic vs generative in-fill, localisation of a digit on a cluttered canvas (Chang et al. 2019)",
        notes=_notes(budget, fido, infos),
        data=train.description,
    )

    def stat(values: list[torch.Tensor]) -> object:
        return mean_sd([float(v.float().nanmean()) for v in values])

    for objective in OBJECTIVES:
        for name in INFILLS:
            values = per[(objective, name)]
            table.add(
                objective=objective,
                infill=name,
                mass_in_box=stat([s.mass_in_box for _, s in values]),
                pointing=stat([s.pointing for _, s in values]),
                saliency_metric=stat([s.saliency_metric for _, s in values]),
                mask_area=stat([s.mask_area for _, s in values]),
                hard_area=stat([s.hard_area for _, s in values]),
                p_own_infill=stat([s.hard_probability for _, s in values]),
                p_generative_infill=stat([s.generative_probability for _, s in values]),
                seconds=round(sum(r.seconds for r, _ in values), 1),
            )
    table.add(
        objective="(uniform map)",
        infill="",
        mass_in_box=mean_sd([i["share"] for i in infos]),
    )
    options.publish(table)
    return [table]


def _notes(budget: dict, fido: FidoConfig, infos: list[dict]) -> str:
    l1 = {name: mean_sd([i["l1"][name] for i in infos]) for name in ("generative", "mean", "blur")}
    return (
        f"{budget['train']} train / {budget['test']} test canvases; CanvasCNN (4 convs, global max pool) trained "
        f"{budget['classifier']} epochs, test accuracy {mean_sd([i['accuracy'] for i in infos])}; in-painter "
        f"{budget['inpainter']} epochs on random masks, L1 on dropped test pixels {l1['generative']} (mean in-fill "
        f"{l1['mean']}, blur {l1['blur']}). FIDO on the first {infos[0]['explained']} correctly classified test "
        f"canvases, their true class: {fido.steps} Adam steps (lr {fido.learning_rate}), concrete temperature "
        f"{fido.temperature}, {fido.samples} masks per step, lambda {fido.sparsity} on mean(theta), TV weight "
        f"{fido.smoothness}, blur sigma {fido.blur_sigma} px, mean in-fill = the training canvases' mean. "
        "mass_in_box: share of theta inside the digit's ink box (a uniform map: the last row); pointing: theta's "
        "maximum inside the box; saliency_metric: Dabkowski & Gal's log(max(a, 0.05)) - log p(c | crop of the "
        "theta > 0.5 box, resized), lower is better; mask_area: mean theta; hard_area: share with theta > 0.5; "
        "p_own_infill / p_generative_infill: p(c) with the hard mask in-filled by the run's own in-fill / by the "
        f"in-painter (SSR: high is good, SDR: low is good). {budget['seeds']} seed(s), mean (sd) over seeds. "
        f"Paper (Chang et al. 2019, ImageNet, CA-GAN in-fill): {PAPER}."
    )
