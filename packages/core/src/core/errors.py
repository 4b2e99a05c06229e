"""The one error type every package raises for bad user input."""

from __future__ import annotations

from typing import Any

__all__ = ["CheckpointMismatchError", "InputError"]


class InputError(ValueError):
    """Bad input from a user: names the offending item and what was expected.

    Args:
        message: what is wrong, in the user's terms.
        item: the offending value, file, line, column, SMILES, ... (shown in the message).
        expected: what would have been accepted.

    Example:
        >>> raise InputError("negative survival time", item="row 17, column 'time'", expected="time >= 0")
    """

    def __init__(self, message: str, *, item: Any = None, expected: str | None = None) -> None:
        self.item = item
        self.expected = expected
        parts = [message]
        if item is not None:
            parts.append(f"offending item: {item!s}")
        if expected is not None:
            parts.append(f"expected: {expected}")
        super().__init__("; ".join(parts))


class CheckpointMismatchError(InputError):
    """A checkpoint does not fit the configuration or model it is loaded into."""
