"""``hrl`` command line. No sub-commands yet: the package is planned, not implemented."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from core.cli import dispatch, package_cli

DESCRIPTION = (
    "Hierarchical reinforcement learning: HIRO (two-level TD3 with off-policy goal relabelling), then skills (DIAYN) and curiosity-style intrinsic rewards. "
    "Status: planned; no experiment is implemented yet (see the package README)."
)


def main(argv: Sequence[str] | None = None) -> int:
    parser, _commands = package_cli("hrl", DESCRIPTION)
    return dispatch(parser, argv)


if __name__ == "__main__":
    sys.exit(main())
