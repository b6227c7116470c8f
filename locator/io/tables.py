"""Finding the table inside a spreadsheet as offices lay it out, and refusing files too big to read.

A register from a county union rarely starts with its header. The usual
government layout is a merged title row (``海口市户外劳动者服务站名单（2025年）``),
perhaps a blank row or a ``填报日期`` line, then the header, the rows, and a
sign-off footer (``填报单位：…（盖章）``, ``制表人``, ``审核人``, ``合计``).
``find_table`` finds the header among the first rows (the first row that names
the required fields), stops at the footer, and says which columns it did not
use, so the import report can name them instead of ignoring them silently.

``check_xlsx`` looks inside an XLSX (a zip of XML) before it is parsed: a
small file can unpack to gigabytes (a "zip bomb") or hold a million rows, and
openpyxl would spend minutes on it. The caps are checked from the zip's own
directory and the sheet's declared dimension, in microseconds.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from locator.errors import DataError

__all__ = ["FOOTER_WORDS", "MAX_ROWS", "MAX_XLSX_UNCOMPRESSED", "TableLayout", "check_xlsx", "find_table"]

#: Words that begin a sign-off line under a register's table.
FOOTER_WORDS = (
    "填报单位",
    "填表单位",
    "制表人",
    "制表单位",
    "填表人",
    "填报人",
    "审核人",
    "审核",
    "负责人",
    "盖章",
    "合计",
    "总计",
)
#: How many rows from the top may come before the header.
HEADER_SCAN_ROWS = 15
#: Largest uncompressed size of an XLSX's parts, in bytes, and most rows read from a sheet.
MAX_XLSX_UNCOMPRESSED = 64 * 1024 * 1024
MAX_ROWS = 50_000

_DIMENSION = re.compile(rb'<dimension ref="[A-Z]+\d+:[A-Z]+(\d+)"')


def _cell(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _norm(header: str) -> str:
    # 名称（必填） / 经度* / "Name " → 名称 / 经度 / name
    return re.sub(r"[（(][^）)]*[）)]|[*＊\s]", "", header).lower()


@dataclass(frozen=True)
class TableLayout:
    """Where the table is: the header's row number, each column's field, the body, and what was left out.

    Row numbers are the ones a person sees in the spreadsheet (the first row is 1).
    """

    header_row: int
    keys: tuple[str | None, ...]
    rows: list[tuple[int, list[Any]]] = field(default_factory=list)
    unused: tuple[str, ...] = ()
    footer_row: int | None = None
    footer_text: str = ""

    def notes(self) -> list[str]:
        """Lines for the import report."""
        out = []
        if self.header_row != 1:
            out.append(f"header found on row {self.header_row}; the rows above it were skipped as titles")
        if self.unused:
            out.append("columns not used: " + ", ".join(repr(u) for u in self.unused))
        if self.footer_row is not None:
            out.append(
                f"row {self.footer_row}: footer {self.footer_text[:40]!r}; it and the rows after it are not read"
            )
        return out


def _is_footer(values: Sequence[Any]) -> str | None:
    filled = [_cell(v) for v in values if _cell(v)]
    if not filled or len(filled) > 3:
        return None
    first = filled[0]
    return first if first.startswith(FOOTER_WORDS) else None


def find_table(
    table: Sequence[Sequence[Any]],
    aliases: Mapping[str, str],
    required: Sequence[str] = ("name",),
    path: str = "the file",
) -> TableLayout:
    """Find the header among the first rows, map its columns through ``aliases``, and cut the footer.

    ``aliases`` maps a lower-case header text to a field key. The header is the
    first of the first ``HEADER_SCAN_ROWS`` rows in which every ``required``
    field has a column. Raises ``DataError`` naming what was looked for and the
    most header-like row seen when there is none.
    """
    best: tuple[int, list[str]] | None = None
    for i, values in enumerate(table[:HEADER_SCAN_ROWS]):
        texts = [_cell(v) for v in values]
        keys = [aliases.get(_norm(t)) if t else None for t in texts]
        if all(k in keys for k in required):
            rows: list[tuple[int, list[Any]]] = []
            footer_row, footer_text = None, ""
            for n, body in enumerate(table[i + 1 :], start=i + 2):
                if all(not _cell(v) for v in body):
                    continue
                words = _is_footer(body)
                if words is not None:
                    footer_row, footer_text = n, words
                    break
                rows.append((n, list(body)))
            unused = tuple(t for t, k in zip(texts, keys, strict=False) if t and k is None)
            return TableLayout(i + 1, tuple(keys), rows, unused, footer_row, footer_text)
        score = sum(k is not None for k in keys)
        if score and (best is None or score > len(best[1])):
            best = (i + 1, [t for t, k in zip(texts, keys, strict=False) if k])
    looked = ", ".join(required)
    if best is None:
        raise DataError(
            f"{path!r}: no header row in the first {HEADER_SCAN_ROWS} rows (looked for a column for {looked})"
        )
    raise DataError(
        f"{path!r}: row {best[0]} looks like the header ({', '.join(best[1])}) but has no column for {looked}"
    )


def check_xlsx(
    data: bytes, path: str = "the file", max_bytes: int = MAX_XLSX_UNCOMPRESSED, max_rows: int = MAX_ROWS
) -> None:
    """Refuse an XLSX whose parts unpack past ``max_bytes`` or whose first sheet declares more than ``max_rows``.

    Reads only the zip directory and the first bytes of the first sheet.
    Raises ``DataError`` with the figure and the cap.
    """
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise DataError(f"{path!r} is not a readable XLSX workbook (not a zip file)") from None
    with zf:
        total = sum(i.file_size for i in zf.infolist())
        if total > max_bytes:
            raise DataError(
                f"{path!r} unpacks to {total / 1e6:,.0f} MB, over the limit of {max_bytes / 1e6:,.0f} MB; "
                "split it, or save it again from a spreadsheet program"
            )
        sheets = sorted(n for n in zf.namelist() if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", n))
        if sheets:
            with zf.open(sheets[0]) as fh:
                head = fh.read(4096)
            m = _DIMENSION.search(head)
            if m and int(m.group(1)) > max_rows:
                raise DataError(f"{path!r}: the sheet has {int(m.group(1)):,} rows, over the limit of {max_rows:,}")
