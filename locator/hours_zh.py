"""Opening hours as Chinese offices write them, read into OpenStreetMap syntax. Pure.

Registers say ``周一至周五 8:00-18:00``, ``24小时``, ``工作日9:00-17:00``,
``上午8:00-12:00，下午2:30-6:00``, ``周一至周五9:00-17:00，周末休息``, with
full-width digits and colons, and Excel stores some hours as time cells. The
importer turns each into an ``opening_hours`` expression that
``locator.hours`` can evaluate (``Mo-Fr 08:00-18:00``), and says what it read.
Text it cannot read is not an error of the row: the venue keeps unknown hours
(``open_now`` null) and the report says why.

How it reads: the text is folded (NFKC: full-width to half-width), then cut
into tokens — day specifications (周一…周日, 星期…, 礼拜…, 工作日, 周末, 每天,
节假日), time ranges (``8:00``, ``8点半``, ``8时30分``, with 上午/下午/晚上),
whole-day words (24小时, 全天, 全天候) and closed words (休息, 闭馆, 不开放). A
rule is a run of days followed by its times (or "off"); a new day after times
starts a new rule. The result must parse with opening-hours-py, the OSM
reference grammar, or nothing is returned.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from locator.hours import parse_error

__all__ = ["HoursReading", "read_hours"]

DAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
_DAY_OF = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "七": 6}


@dataclass(frozen=True)
class HoursReading:
    """What was read: the OSM expression (``None`` when unreadable) and, if so, why."""

    expr: str | None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.expr is not None


_DAY = r"(?:周|星期|礼拜)[一二三四五六日天七]"
_SEP = r"\s*(?:-|~|至|到|—|–|－)\s*"
_CLOCK = (
    r"(?P<{p}h>\d{{1,2}})"
    r"(?:(?::|\.)(?P<{p}m>\d{{2}})|点(?:(?P<{p}pm>\d{{1,2}})分?|(?P<{p}half>半))?|时(?:(?P<{p}tm>\d{{1,2}})分?)?)"
)
_PERIOD = r"(?P<{p}per>上午|早上|早晨|早|中午|下午|晚上|傍晚|晚|夜间|夜里)?\s*"
_RANGE = (
    "(?P<range>"
    + _PERIOD.format(p="a")
    + _CLOCK.format(p="a")
    + _SEP
    + _PERIOD.format(p="b")
    + _CLOCK.format(p="b")
    + ")"
)
_TOKENS = re.compile(
    "|".join(
        [
            rf"(?P<dayrange>{_DAY}{_SEP}{_DAY})",
            rf"(?P<day>{_DAY})",
            r"(?P<workdays>工作日|周一到周五)",
            r"(?P<weekend>周末|双休日|星期六日|周六日)",
            r"(?P<everyday>每天|每日|天天|全周|全年|一周七天|周一至周日)",
            r"(?P<holidays>法定节假日|节假日|节日|假日)",
            r"(?P<allday>24\s*小时|24\s*h|全天候|全天|通宵|00:00-24:00|0:00-24:00)",
            _RANGE,
            r"(?P<off>休息|闭馆|休馆|不开放|关闭|不营业|闭店)",
            r"(?P<sep>[;；,，、\n]|和|及|与)",
        ]
    )
)
_NOISE = re.compile(r"(开放|营业|办公|服务|时间|开馆|对外|照常|正常|:|全年无休|无休)")


def _clock(m: re.Match[str], p: str) -> tuple[int, int] | None:
    h = int(m.group(f"{p}h"))
    minute = m.group(f"{p}m") or m.group(f"{p}pm") or m.group(f"{p}tm")
    mi = 30 if m.group(f"{p}half") else int(minute) if minute else 0
    period = m.group(f"{p}per")
    if period in ("下午", "晚上", "傍晚", "晚", "夜间", "夜里") and h < 12:
        h += 12
    elif period == "中午" and h < 11:
        h += 12
    if not (0 <= h <= 24 and 0 <= mi < 60) or (h == 24 and mi):
        return None
    return h, mi


def _range(m: re.Match[str]) -> str | None:
    a, b = _clock(m, "a"), _clock(m, "b")
    if a is None or b is None:
        return None
    # "下午2:30-6:00": the period of the start carries to the end
    if m.group("aper") and not m.group("bper") and a[0] >= 12 and b[0] < 12 and b[0] + 12 > a[0]:
        b = (b[0] + 12, b[1])
    return f"{a[0]:02d}:{a[1]:02d}-{b[0]:02d}:{b[1]:02d}"


def _days(kind: str, text: str) -> list[int]:
    if kind == "workdays":
        return list(range(5))
    if kind == "weekend":
        return [5, 6]
    if kind == "everyday":
        return list(range(7))
    if kind == "day":
        return [_DAY_OF[text[-1]]]
    first, last = _DAY_OF[re.findall(_DAY, text)[0][-1]], _DAY_OF[re.findall(_DAY, text)[1][-1]]
    return list(range(first, last + 1)) if first <= last else [*range(first, 7), *range(0, last + 1)]


def _day_spec(days: list[int], holidays: bool) -> str:
    """OSM weekday selector: consecutive runs as ranges (Mo-Fr), others listed (Mo,We)."""
    out: list[str] = []
    ds = sorted(set(days))
    i = 0
    while i < len(ds):
        j = i
        while j + 1 < len(ds) and ds[j + 1] == ds[j] + 1:
            j += 1
        out.append(DAYS[ds[i]] if i == j else f"{DAYS[ds[i]]}{',' if j == i + 1 else '-'}{DAYS[ds[j]]}")
        i = j + 1
    return ",".join((["PH"] if holidays else []) + out)


def _format_cell(value: Any) -> str | None:
    """An Excel time or datetime cell as ``HH:MM`` (one time alone is not opening hours)."""
    if isinstance(value, datetime):
        value = value.time()
    if isinstance(value, time):
        return f"{value.hour:02d}:{value.minute:02d}"
    return None


def read_hours(value: Any) -> HoursReading:
    """Read a register's opening-hours cell.

    Returns ``HoursReading(expr)`` with a valid OSM expression, ``HoursReading(None)``
    for an empty cell, or ``HoursReading(None, problem)`` quoting what could not be read.
    """
    if value is None:
        return HoursReading(None)
    single = _format_cell(value)
    if single is not None:
        return HoursReading(None, f"opening hours {single!r} is a single time, not a range; left unknown")
    text = str(value).strip()
    if not text:
        return HoursReading(None)
    if parse_error(text) is None and not re.search(r"[\u4e00-\u9fff]", text):
        return HoursReading(text)
    folded = unicodedata.normalize("NFKC", text).replace("：", ":")
    rules: list[tuple[list[int], bool, list[str], bool]] = []  # days, holidays, times, off
    days: list[int] = []
    holidays = False
    times: list[str] = []
    off = False
    pos = 0
    leftover = []

    def flush() -> None:
        nonlocal days, holidays, times, off
        if days or holidays or times or off:
            rules.append((days, holidays, times, off))
        days, holidays, times, off = [], False, [], False

    for m in _TOKENS.finditer(folded):
        leftover.append(folded[pos : m.start()])
        pos = m.end()
        kind = m.lastgroup  # the outermost named group closes last
        if kind in ("day", "dayrange", "workdays", "weekend", "everyday", "holidays"):
            if times or off:
                flush()
            if kind == "holidays":
                holidays = True
            else:
                days += _days(kind, m.group(kind))
        elif kind == "range":
            r = _range(m)
            if r is None:
                return HoursReading(None, f"opening hours {text!r}: the time {m.group('range')!r} is out of range")
            times.append(r)
        elif kind == "allday":
            times.append("00:00-24:00")
        elif kind == "off":
            off = True
    leftover.append(folded[pos:])
    rest = _NOISE.sub("", "".join(leftover)).strip(" .。!！()（）")
    if rest:
        return HoursReading(None, f"opening hours {text!r}: could not read {rest!r}; left unknown")
    flush()
    if not rules:
        return HoursReading(None, f"opening hours {text!r}: no days or times found; left unknown")
    parts = []
    for ds, hol, ts, is_off in rules:
        spec = _day_spec(ds, hol)
        if is_off and not ts:
            if not spec:
                return HoursReading(None, f"opening hours {text!r}: closed on which days?; left unknown")
            parts.append(f"{spec} off")
        elif ts:
            body = ",".join(dict.fromkeys(ts))
            parts.append(f"{spec} {body}".strip() if spec else body)
        else:
            return HoursReading(None, f"opening hours {text!r}: days without times; left unknown")
    expr = "; ".join(parts)
    if expr in ("00:00-24:00", "Mo-Su 00:00-24:00"):
        expr = "24/7"
    if parse_error(expr) is not None:
        return HoursReading(None, f"opening hours {text!r} read as {expr!r}, which does not parse; left unknown")
    return HoursReading(expr)
