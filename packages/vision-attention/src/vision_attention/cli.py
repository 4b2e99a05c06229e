"""``vision-attention`` command line: run the experiments, list the saliency methods, check feature files.

Built on the workspace's CLI contract (`core.cli`): validated options, ``--out`` always a folder, every
bad input one line on stderr with exit code 2. Nothing here imports torch until a command runs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from core.cli import dispatch, existing_file, package_cli
from core.reproduce import add_reproduce_command

DESCRIPTION = (
    "Bottom-up/top-down attention for captioning and VQA (Anderson et al. 2018), CoordConv (Liu et al. 2018), "
    "sanity checks for saliency maps (Adebayo et al. 2018), Group Normalization (Wu & He 2018) and learned "
    "confidence for out-of-distribution detection (DeVries & Taylor 2018), SQOOP (Bahdanau et al. 2019) and BSN "
    "temporal action proposals (Lin et al. 2018)."
)


def _methods(args: argparse.Namespace) -> int:
    from vision_attention.saliency.methods import METHODS

    for name in METHODS:
        print(name)
    return 0


def _features(args: argparse.Namespace) -> int:
    from vision_attention.updown.features import read_bottom_up_tsv

    records = read_bottom_up_tsv(args.file)
    boxes = [record.boxes.shape[0] for record in records]
    dims = {record.features.shape[1] for record in records}
    print(
        f"{args.file}: {len(records)} images, {min(boxes)}-{max(boxes)} regions, feature size {sorted(dims)}"
    )
    return 0


def _proposal_metrics(args: argparse.Namespace) -> int:
    from core.errors import InputError
    from vision_attention.bsn.data import load_activitynet_annotations, load_activitynet_proposals
    from vision_attention.bsn.metrics import ar_at_an, auc

    truth = load_activitynet_annotations(args.annotations, args.subset)
    proposals = load_activitynet_proposals(args.proposals)
    missing = sorted(set(truth) - set(proposals))
    if missing:
        raise InputError("annotated videos have no proposals", item=f"{args.proposals}: {missing[:3]}")
    numbers = tuple(range(1, 101))
    recall = ar_at_an(proposals, {v: e["segments"] for v, e in truth.items()}, numbers)
    print(
        f"{len(truth)} videos: AR@1 {recall[0]:.4f}  AR@10 {recall[9]:.4f}  AR@50 {recall[49]:.4f}  "
        f"AR@100 {recall[99]:.4f}  AUC {100 * auc(recall, numbers):.2f}"
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The ``vision-attention`` parser with its sub-commands (each has a ``handler``)."""
    parser, commands = package_cli("vision-attention", DESCRIPTION)
    methods = commands.add_parser(
        "saliency-methods", help="list the attribution methods the sanity checks run"
    )
    methods.set_defaults(handler=_methods)
    features = commands.add_parser(
        "check-features", help="read a bottom-up feature file (the released TSV format) and summarise it"
    )
    features.add_argument(
        "file", type=existing_file, help="TSV with image_id, image_w, image_h, num_boxes, boxes, features"
    )
    features.set_defaults(handler=_features)
    metrics = commands.add_parser(
        "proposal-metrics", help="AR@AN and AUC of temporal proposals (ActivityNet JSON formats)"
    )
    metrics.add_argument("proposals", type=existing_file, help='{"results": {video: [{"segment", "score"}]}}')
    metrics.add_argument(
        "annotations", type=existing_file, help='{"database": {video: {"duration_second", "annotations"}}}'
    )
    metrics.add_argument("--subset", default=None, help='only videos of this subset (e.g. "validation")')
    metrics.set_defaults(handler=_proposal_metrics)
    add_reproduce_command(commands, "vision-attention")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    return dispatch(build_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
