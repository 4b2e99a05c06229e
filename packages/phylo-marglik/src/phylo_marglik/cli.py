"""``phylo-marglik`` command line."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from core.cli import dispatch, package_cli

DESCRIPTION = "Marginal likelihood of a phylogenetic tree topology with branch lengths integrated out: the study's 19 estimators side by side."


def main(argv: Sequence[str] | None = None) -> int:
    parser, _commands = package_cli("phylo-marglik", DESCRIPTION)
    return dispatch(parser, argv)


if __name__ == "__main__":
    sys.exit(main())
