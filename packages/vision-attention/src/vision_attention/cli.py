"""``vision-attention`` command line: run the experiments, list the saliency methods, check feature files.

Built on the workspace's CLI contract (`core.cli`): validated options, ``--out`` always a folder, every
bad input one line on stderr with exit code 2. Nothing here imports torch until a command runs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from core.cli import add_out_option, add_seed_option, dispatch, existing_file, package_cli, positive_int
from core.reproduce import add_reproduce_command
from vision_attention.keypoints.config import CATEGORIES

DESCRIPTION = (
    "Bottom-up/top-down attention for captioning and VQA (Anderson et al. 2018), CoordConv (Liu et al. 2018), "
    "sanity checks for saliency maps (Adebayo et al. 2018), Group Normalization (Wu & He 2018) and learned "
    "confidence for out-of-distribution detection (DeVries & Taylor 2018), SQOOP (Bahdanau et al. 2019), BSN "
    "temporal action proposals (Lin et al. 2018), FIDO (Chang et al. 2019), augmentation for skin lesions "
    "(Perez et al. 2018) and KeypointNet (Suwajanakorn et al. 2018)."
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


def _keypoint_views(args: argparse.Namespace) -> int:
    import numpy as np

    from vision_attention.keypoints.config import ViewConfig
    from vision_attention.keypoints.figures import plot_keypoints
    from vision_attention.keypoints.geometry import angular_distance, project
    from vision_attention.keypoints.render import make_pairs

    view = ViewConfig(size=args.size)
    pairs = make_pairs(args.category, args.count, view, seed=args.seed)
    shown = {
        f"{args.category}, view {side}": (images, project(keypoints, view.focal))
        for side, images, keypoints in (
            ("A", pairs.images_a, pairs.keypoints_a),
            ("B", pairs.images_b, pairs.keypoints_b),
        )
    }
    path = plot_keypoints(
        shown,
        args.out / f"keypoint_views_{args.category}.png",
        title=f"{args.category}: {args.count} view pairs, annotated keypoints",
        columns=args.count,
    )
    angles = np.degrees(angular_distance(pairs.rotation_ab, pairs.rotation_ab.new_tensor(np.eye(3))).numpy())
    print(f"{path}: relative rotations {', '.join(f'{a:.1f}' for a in angles)} deg")
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
    views = commands.add_parser(
        "keypoint-views",
        help="render view pairs of a KeypointNet object category with its annotated keypoints",
    )
    views.add_argument("category", choices=CATEGORIES, help="the object category")
    views.add_argument("--count", type=positive_int, default=4, help="view pairs (default: 4)")
    views.add_argument("--size", type=positive_int, default=64, help="image side in pixels (default: 64)")
    add_seed_option(views)
    add_out_option(views, what="the figure")
    views.set_defaults(handler=_keypoint_views)
    add_reproduce_command(commands, "vision-attention")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    return dispatch(build_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
