"""vision_attention: bottom-up/top-down attention for captioning and VQA, CoordConv, saliency sanity checks,
Group Normalization, learned confidence for OoD detection.

Five papers, one sub-package each, and their experiments (``reproduce vision-attention --only NAME``):

- `vision_attention.coordconv` (Liu et al. 2018): `CoordConv2d`, the Not-so-Clevr data, the coordinate tasks.
- `vision_attention.saliency` (Adebayo et al. 2018): Captum's attribution methods under one call
  (`attribute`), cascading / independent randomisation, Spearman / SSIM / HOG similarity.
- `vision_attention.groupnorm` (Wu & He 2018): `GroupNorm` (equal to `torch.nn.GroupNorm`), BN / GN / LN / IN
  through `make_norm`, `NormCNN`, the error-against-batch-size study (`batch_size_study`).
- `vision_attention.confidence` (DeVries & Taylor 2018): `ConfidenceCNN` (a confidence branch), the hints
  (`hint_probabilities`) with the budgeted lambda, max-softmax / ODIN / confidence detectors
  (`detector_scores`), `auroc` and `fpr_at_tpr`, the digits-vs-outliers data (`load_ood_data`).
- `vision_attention.updown` (Anderson et al. 2018): the two-LSTM captioner, the gated-tanh VQA model, BLEU
  and CIDEr-D, the bottom-up TSV reader, COCO / VQA v2 loaders, synthetic scenes.

``import vision_attention`` is cheap: names load from their modules on first use (PEP 562), so torch is
imported by the first model or function used, not by the import or ``vision-attention --help``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.lazy import lazy_exports

if TYPE_CHECKING:  # what static tools see; at run time `__getattr__` loads names on first use
    from vision_attention.confidence.config import ConfidenceConfig, OodConfig
    from vision_attention.confidence.data import load_ood_data
    from vision_attention.confidence.loss import hint_probabilities
    from vision_attention.confidence.metrics import auroc, fpr_at_tpr
    from vision_attention.confidence.models import ConfidenceCNN
    from vision_attention.confidence.scores import detector_scores
    from vision_attention.config import TrainConfig
    from vision_attention.coordconv.config import CoordTaskConfig
    from vision_attention.coordconv.data import not_so_clevr, split_indices
    from vision_attention.coordconv.layer import AddCoords, CoordConv2d
    from vision_attention.coordconv.tasks import train_task
    from vision_attention.groupnorm.config import NormNetConfig
    from vision_attention.groupnorm.layer import GroupNorm, make_norm
    from vision_attention.groupnorm.models import NormCNN
    from vision_attention.groupnorm.study import batch_size_study
    from vision_attention.keypoints.config import KeypointConfig, ViewConfig
    from vision_attention.keypoints.geometry import procrustes
    from vision_attention.keypoints.models import KeypointNet
    from vision_attention.keypoints.render import make_pairs
    from vision_attention.saliency.methods import METHODS, attribute
    from vision_attention.saliency.randomize import cascading_randomization, independent_randomization
    from vision_attention.saliency.similarity import hog_similarity, rank_correlation, ssim
    from vision_attention.training import build_model, fit
    from vision_attention.updown.captioner import TopDownCaptioner
    from vision_attention.updown.coco import load_coco_captions, load_vqa
    from vision_attention.updown.config import CaptionerConfig, SceneConfig, VQAConfig
    from vision_attention.updown.features import read_bottom_up_tsv, write_bottom_up_tsv
    from vision_attention.updown.metrics import bleu, cider_d
    from vision_attention.updown.scenes import make_scenes
    from vision_attention.updown.vqa import TopDownVQA

_WHERE = {
    "load_ood_data": "vision_attention.confidence.data",
    "hint_probabilities": "vision_attention.confidence.loss",
    "detector_scores": "vision_attention.confidence.scores",
    "fpr_at_tpr": "vision_attention.confidence.metrics",
    "auroc": "vision_attention.confidence.metrics",
    "OodConfig": "vision_attention.confidence.config",
    "ConfidenceConfig": "vision_attention.confidence.config",
    "ConfidenceCNN": "vision_attention.confidence.models",
    "AddCoords": "vision_attention.coordconv.layer",
    "CaptionerConfig": "vision_attention.updown.config",
    "CoordConv2d": "vision_attention.coordconv.layer",
    "CoordTaskConfig": "vision_attention.coordconv.config",
    "GroupNorm": "vision_attention.groupnorm.layer",
    "KeypointConfig": "vision_attention.keypoints.config",
    "KeypointNet": "vision_attention.keypoints.models",
    "ViewConfig": "vision_attention.keypoints.config",
    "make_pairs": "vision_attention.keypoints.render",
    "procrustes": "vision_attention.keypoints.geometry",
    "METHODS": "vision_attention.saliency.methods",
    "NormCNN": "vision_attention.groupnorm.models",
    "NormNetConfig": "vision_attention.groupnorm.config",
    "SceneConfig": "vision_attention.updown.config",
    "TopDownCaptioner": "vision_attention.updown.captioner",
    "TopDownVQA": "vision_attention.updown.vqa",
    "TrainConfig": "vision_attention.config",
    "VQAConfig": "vision_attention.updown.config",
    "attribute": "vision_attention.saliency.methods",
    "batch_size_study": "vision_attention.groupnorm.study",
    "bleu": "vision_attention.updown.metrics",
    "build_model": "vision_attention.training",
    "cascading_randomization": "vision_attention.saliency.randomize",
    "cider_d": "vision_attention.updown.metrics",
    "fit": "vision_attention.training",
    "hog_similarity": "vision_attention.saliency.similarity",
    "independent_randomization": "vision_attention.saliency.randomize",
    "load_coco_captions": "vision_attention.updown.coco",
    "load_vqa": "vision_attention.updown.coco",
    "make_norm": "vision_attention.groupnorm.layer",
    "make_scenes": "vision_attention.updown.scenes",
    "not_so_clevr": "vision_attention.coordconv.data",
    "rank_correlation": "vision_attention.saliency.similarity",
    "read_bottom_up_tsv": "vision_attention.updown.features",
    "split_indices": "vision_attention.coordconv.data",
    "ssim": "vision_attention.saliency.similarity",
    "train_task": "vision_attention.coordconv.tasks",
    "write_bottom_up_tsv": "vision_attention.updown.features",
}

__all__ = [
    "METHODS",
    "AddCoords",
    "CaptionerConfig",
    "ConfidenceCNN",
    "ConfidenceConfig",
    "CoordConv2d",
    "CoordTaskConfig",
    "GroupNorm",
    "KeypointConfig",
    "KeypointNet",
    "NormCNN",
    "NormNetConfig",
    "OodConfig",
    "SceneConfig",
    "TopDownCaptioner",
    "TopDownVQA",
    "TrainConfig",
    "VQAConfig",
    "ViewConfig",
    "attribute",
    "auroc",
    "batch_size_study",
    "bleu",
    "build_model",
    "cascading_randomization",
    "cider_d",
    "detector_scores",
    "fit",
    "fpr_at_tpr",
    "hint_probabilities",
    "hog_similarity",
    "independent_randomization",
    "load_coco_captions",
    "load_ood_data",
    "load_vqa",
    "make_norm",
    "make_pairs",
    "make_scenes",
    "not_so_clevr",
    "procrustes",
    "rank_correlation",
    "read_bottom_up_tsv",
    "split_indices",
    "ssim",
    "train_task",
    "write_bottom_up_tsv",
]
__version__ = "0.1.0"

__getattr__, __dir__ = lazy_exports(__name__, _WHERE)
