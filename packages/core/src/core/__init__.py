"""core: the thin layer every package of the workspace shares.

Seeding, device choice, progress, atomic checkpoints and the resume rule, result tables with
provenance, timing, data locations, figures, the input-error type and the shared CLI options.
Nothing domain-specific lives here.

``import core`` is cheap: names are loaded from their modules on first use (PEP 562), so torch is
imported only by what needs it (checkpoints, devices, seeding), never by ``--help``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.lazy import lazy_exports

if TYPE_CHECKING:  # what static tools see; at run time `__getattr__` loads names on first use
    from core.checkpoint import Checkpoint, load_checkpoint, load_state_into, save_checkpoint
    from core.cli import (
        SCALES,
        RunOptions,
        add_config_arguments,
        add_run_options,
        config_from_args,
        dispatch,
        package_cli,
        positive_int,
        run_options_from,
    )
    from core.data import bundled_path, cache_dir, download, sha256_of
    from core.device import pick_device, torch_threads
    from core.errors import CheckpointMismatchError, InputError
    from core.files import atomic_write
    from core.plots import new_figure, save_figure
    from core.progress import progress
    from core.provenance import provenance
    from core.results import MeanSD, ResultTable, mean_sd
    from core.resume import check_resumable, extendable, extendable_fields
    from core.seeding import make_generator, seed_everything
    from core.testing import exit_code, one_line_error
    from core.timing import Timer, TimingResult, measure, throughput
    from core.validate import require_ints, require_positive, require_seed

_WHERE = {
    "Checkpoint": "core.checkpoint",
    "load_checkpoint": "core.checkpoint",
    "load_state_into": "core.checkpoint",
    "lazy_exports": "core.lazy",
    "save_checkpoint": "core.checkpoint",
    "atomic_write": "core.files",
    "check_resumable": "core.resume",
    "extendable": "core.resume",
    "extendable_fields": "core.resume",
    "SCALES": "core.cli",
    "RunOptions": "core.cli",
    "add_config_arguments": "core.cli",
    "add_run_options": "core.cli",
    "config_from_args": "core.cli",
    "dispatch": "core.cli",
    "package_cli": "core.cli",
    "positive_int": "core.cli",
    "run_options_from": "core.cli",
    "bundled_path": "core.data",
    "cache_dir": "core.data",
    "download": "core.data",
    "sha256_of": "core.data",
    "pick_device": "core.device",
    "torch_threads": "core.device",
    "CheckpointMismatchError": "core.errors",
    "InputError": "core.errors",
    "new_figure": "core.plots",
    "save_figure": "core.plots",
    "progress": "core.progress",
    "provenance": "core.provenance",
    "MeanSD": "core.results",
    "ResultTable": "core.results",
    "mean_sd": "core.results",
    "make_generator": "core.seeding",
    "seed_everything": "core.seeding",
    "require_ints": "core.validate",
    "require_positive": "core.validate",
    "require_seed": "core.validate",
    "exit_code": "core.testing",
    "one_line_error": "core.testing",
    "Timer": "core.timing",
    "TimingResult": "core.timing",
    "measure": "core.timing",
    "throughput": "core.timing",
}

__all__ = [
    "SCALES",
    "Checkpoint",
    "CheckpointMismatchError",
    "InputError",
    "MeanSD",
    "ResultTable",
    "RunOptions",
    "Timer",
    "TimingResult",
    "add_config_arguments",
    "add_run_options",
    "atomic_write",
    "bundled_path",
    "cache_dir",
    "check_resumable",
    "config_from_args",
    "dispatch",
    "download",
    "exit_code",
    "extendable",
    "extendable_fields",
    "lazy_exports",
    "load_checkpoint",
    "load_state_into",
    "make_generator",
    "mean_sd",
    "measure",
    "new_figure",
    "one_line_error",
    "package_cli",
    "pick_device",
    "positive_int",
    "progress",
    "provenance",
    "require_ints",
    "require_positive",
    "require_seed",
    "run_options_from",
    "save_checkpoint",
    "save_figure",
    "seed_everything",
    "sha256_of",
    "throughput",
    "torch_threads",
]
__version__ = "0.2.0"


__getattr__, __dir__ = lazy_exports(__name__, _WHERE)
