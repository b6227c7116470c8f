"""The project's errors. Pure: no web framework here.

Every error is a ``ValueError`` subclass whose message quotes the bad value,
so that the CLI can print it as one line and the API can turn it into a
problem document (see ``locator.web.problems``).
"""

from __future__ import annotations

__all__ = ["DataError", "InvalidParameter", "LocatorError", "NotFound"]


class LocatorError(ValueError):
    """Base class of every error the project raises on purpose."""


class DataError(LocatorError):
    """A data file or record is malformed or inconsistent."""


class InvalidParameter(LocatorError):
    """A caller passed a bad value for a named parameter."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"{name}: {reason}")
        self.name = name
        self.reason = reason


class NotFound(LocatorError):
    """The thing asked for does not exist."""
