"""``robust`` command line. No sub-commands yet: the package is planned, not implemented."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from core.cli import dispatch, package_cli

DESCRIPTION = (
    "Adversarial robustness: white-box, black-box and spatial attacks, defenses and certified training (IBP and more). "
    "Status: planned; no experiment is implemented yet (see the package README)."
)


def main(argv: Sequence[str] | None = None) -> int:
    parser, _commands = package_cli("robust", DESCRIPTION)
    return dispatch(parser, argv)


if __name__ == "__main__":
    sys.exit(main())
