"""``survival`` command line."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from core.cli import dispatch, package_cli

DESCRIPTION = "Individual survival distributions: MTLR and the ISD baselines, evaluated with concordance, Brier, L1, 1-calibration and D-calibration."


def main(argv: Sequence[str] | None = None) -> int:
    parser, _commands = package_cli("survival", DESCRIPTION)
    return dispatch(parser, argv)


if __name__ == "__main__":
    sys.exit(main())
