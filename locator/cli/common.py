"""What every command shares: the register as the server would open it, errors, and a plain-text table.

No web layer here: the configuration comes from :func:`locator.config.load_config`,
the same layering the app factory uses, and the register from
``locator.storage``, so a command works on exactly the register the server
serves without building the app.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from pathlib import Path

import click
from flask import Config

from locator.categories import CATEGORY_CODES
from locator.config import load_config
from locator.errors import LocatorError
from locator.gazetteer import Gazetteer, load_gazetteer
from locator.storage import Register, Settings, store_errors, store_failed

__all__ = ["EXIT_CODES", "CliError", "config", "one_line", "open_register", "parse_categories", "table", "width"]

#: The exit statuses every command keeps (``locator --help`` lists them).
EXIT_CODES = {
    0: "success",
    1: "an error (one line on stderr), or a check or import that found problems",
    2: "a usage error (bad option or argument), or a file that cannot be read",
    3: "an environment error (disk full, read-only, register unreachable): nothing written",
}


class CliError(click.ClickException):
    """A one-line error with a chosen exit status (see :data:`EXIT_CODES`)."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code  # type: ignore[misc]  # click declares a ClassVar; per-instance is what we need


def config() -> Config:
    """The configuration the server would run with (defaults, instance ``config.py``, ``LOCATOR_*``)."""
    return load_config()


def open_register() -> Register:
    """The register, configured exactly as the server would open it (without its change listener)."""
    cfg = config()
    instance = Path(cfg.root_path)
    environment: tuple[type[Exception], ...] = (OSError, *store_errors())  # full, read-only, unreachable: exit 3
    try:
        instance.mkdir(parents=True, exist_ok=True)  # the default SQLite register lives in the instance folder
        return Register.open(Settings.from_mapping(cfg, instance), listen=False)
    except LocatorError as exc:  # the store says why; an unreachable or full one is the environment (exit 3)
        raise CliError(str(exc), exit_code=3 if store_failed(exc) else 1) from None
    except environment as exc:
        raise CliError(f"cannot open the register: {one_line(exc)}", exit_code=3) from None


def one_line(exc: BaseException) -> str:
    """An exception as one line (a database driver's message may span several)."""
    return " ".join(str(exc).split()) or type(exc).__name__


def open_gazetteer() -> Gazetteer:
    """The gazetteer (``GEODATA_DIR/places.json``); the project's own data, so a failure is exit 3."""
    try:
        return load_gazetteer(Path(str(config()["GEODATA_DIR"])) / "places.json")
    except LocatorError as exc:
        raise CliError(str(exc), exit_code=3) from None


def parse_categories(values: Iterable[str], param_hint: str = "'--category'") -> list[str] | None:
    """Category codes from repeated or comma-separated options; ``None`` when none were given."""
    cats = [c.strip() for v in values for c in v.split(",") if c.strip()]
    for c in cats:
        if c not in CATEGORY_CODES:
            raise click.BadParameter(
                f"unknown category {c!r}; expected one of {', '.join(CATEGORY_CODES)}", param_hint=param_hint
            )
    return cats or None


def width(text: str) -> int:
    """Columns ``text`` takes in a terminal (CJK characters take two)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def table(rows: list[list[str]], headers: list[str]) -> str:
    """``rows`` under ``headers`` as aligned plain text."""
    widths = [max(width(r[i]) for r in [headers, *rows]) for i in range(len(headers))]
    lines = []
    for r in [headers, *rows]:
        lines.append("  ".join(cell + " " * (w - width(cell)) for cell, w in zip(r, widths, strict=False)).rstrip())
    return "\n".join(lines)
