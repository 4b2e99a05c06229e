"""``vision-attention`` command line. No sub-commands yet: the package is planned, not implemented."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from core.cli import dispatch, package_cli

DESCRIPTION = (
    "Bottom-up/top-down attention for captioning and VQA, CoordConv and saliency-map sanity checks. "
    "Status: planned; no experiment is implemented yet (see the package README)."
)


def main(argv: Sequence[str] | None = None) -> int:
    parser, _commands = package_cli("vision-attention", DESCRIPTION)
    return dispatch(parser, argv)


if __name__ == "__main__":
    sys.exit(main())
