"""``gradest`` command line."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from core.cli import dispatch, package_cli

DESCRIPTION = "Gradient estimators for discrete expectations: REINFORCE with baselines, Gumbel-softmax, REBAR/RELAX and Rao-Blackwellized top-k."


def main(argv: Sequence[str] | None = None) -> int:
    parser, _commands = package_cli("gradest", DESCRIPTION)
    return dispatch(parser, argv)


if __name__ == "__main__":
    sys.exit(main())
