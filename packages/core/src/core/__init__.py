"""core: the thin layer every package of the workspace shares.

Seeding, device choice, progress, atomic checkpoints, result tables, timing, data locations,
the input-error type and the shared CLI options. Nothing domain-specific lives here.
"""

from core.checkpoint import Checkpoint, atomic_write, load_checkpoint, save_checkpoint
from core.cli import SCALES, RunOptions, add_run_options, dispatch, package_cli, run_options_from
from core.data import bundled_path, cache_dir, download, sha256_of
from core.device import pick_device, torch_threads
from core.errors import CheckpointMismatchError, InputError
from core.progress import progress
from core.results import ResultTable, mean_sd
from core.seeding import make_generator, seed_everything
from core.timing import Timer, TimingResult, measure, throughput

__all__ = [
    "SCALES",
    "Checkpoint",
    "CheckpointMismatchError",
    "InputError",
    "ResultTable",
    "RunOptions",
    "Timer",
    "TimingResult",
    "add_run_options",
    "atomic_write",
    "bundled_path",
    "cache_dir",
    "dispatch",
    "download",
    "load_checkpoint",
    "make_generator",
    "mean_sd",
    "measure",
    "package_cli",
    "pick_device",
    "progress",
    "run_options_from",
    "save_checkpoint",
    "seed_everything",
    "sha256_of",
    "throughput",
    "torch_threads",
]
__version__ = "0.1.0"
