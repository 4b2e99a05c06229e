"""``neurosat`` command line."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from core.cli import dispatch, package_cli

DESCRIPTION = "NeuroSAT: SR(n) generation, literal-clause message passing trained on SAT/UNSAT bits only, assignment decoding."


def main(argv: Sequence[str] | None = None) -> int:
    parser, _commands = package_cli("neurosat", DESCRIPTION)
    return dispatch(parser, argv)


if __name__ == "__main__":
    sys.exit(main())
