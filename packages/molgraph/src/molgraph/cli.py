"""``molgraph`` command line."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from core.cli import dispatch, package_cli

DESCRIPTION = "Junction Tree VAE for molecular graphs: tree decomposition, encoders, a decoder that only emits valid molecules, latent optimisation."


def main(argv: Sequence[str] | None = None) -> int:
    parser, _commands = package_cli("molgraph", DESCRIPTION)
    return dispatch(parser, argv)


if __name__ == "__main__":
    sys.exit(main())
