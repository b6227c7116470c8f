"""What every command shares: the register as the server would open it, and a plain-text table."""

from __future__ import annotations

import unicodedata
from typing import Any

import click

from locator.errors import LocatorError

__all__ = ["open_register", "table", "width"]


def open_register() -> Any:
    """The app's register, configured exactly as the server would be."""
    from locator import create_app
    from locator.web.state import get_register

    try:
        return get_register(create_app())
    except LocatorError as exc:
        raise click.ClickException(str(exc)) from None


def width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def table(rows: list[list[str]], headers: list[str]) -> str:
    widths = [max(width(r[i]) for r in [headers, *rows]) for i in range(len(headers))]
    lines = []
    for r in [headers, *rows]:
        lines.append("  ".join(cell + " " * (w - width(cell)) for cell, w in zip(r, widths, strict=False)).rstrip())
    return "\n".join(lines)
