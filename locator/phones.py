"""Telephone numbers as registers hold them, normalised. Pure.

What real register files contain: ``0898-6812 3456``, ``(0898)68123456``,
``+86 138 7654 3210``, a landline typed as a number so that Excel dropped its
leading 0 (``89868123456``), several numbers in one cell, extensions
(``转 8001``), and, worst, mobiles that Excel wrote to CSV in scientific
notation (``1.38765E+10``), whose last digits are gone for good.

``read_phone`` returns the normalised text (mobiles as 11 digits, landlines as
``0898-68123456``, extensions as ``0898-68123456 转 8001``, several numbers
joined by ``; ``), a *warning* when it changed the meaning (a restored 0), or a
*problem* when the field cannot be trusted (scientific notation, too few
digits). A problem is an error of that field only: the importer may keep the
rest of the row without the phone.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

__all__ = ["PhoneReading", "read_phone"]

HAINAN_AREA = "0898"
_SCIENTIFIC = re.compile(r"^[+-]?\d+(?:\.\d+)?[eE][+-]?\d+$")
_SPLIT = re.compile(r"\s*(?:[;；/、,，]|或)\s*")
_EXT = re.compile(r"^(?P<main>.+?)\s*(?:转|分机|ext\.?|x)\s*(?P<ext>\d{1,6})$", re.IGNORECASE)
_JUNK = re.compile(r"[\s\-()（）.·]")


@dataclass(frozen=True)
class PhoneReading:
    """The normalised number(s) (``""`` for none), a warning, or a problem (then ``value`` is ``""``)."""

    value: str
    warning: str | None = None
    problem: str | None = None


def _one(raw: str, original: str) -> tuple[str | None, str | None, str | None]:
    ext = ""
    m = _EXT.match(raw)
    if m:
        raw, ext = m.group("main"), m.group("ext")
    digits = _JUNK.sub("", raw)
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13 and digits[2] == "1":
        digits = digits[2:]
    if not digits.isdigit():
        return None, None, f"phone {original!r}: {raw!r} is not a telephone number"
    warning = None
    if re.fullmatch(r"1[3-9]\d{9}", digits):
        number = digits
    elif re.fullmatch(r"0898\d{7,8}", digits):
        number = f"{HAINAN_AREA}-{digits[4:]}"
    elif re.fullmatch(r"898\d{7,8}", digits):
        number = f"{HAINAN_AREA}-{digits[3:]}"
        warning = f"phone {original!r}: restored the leading 0 of the area code 0898 (Excel drops it from numbers)"
    elif re.fullmatch(r"0[1-9]\d{1,2}\d{7,8}", digits):
        # another area code: 010, 020-029 (3 digits), else 4 digits
        cut = 3 if digits[1] in "12" else 4
        number = f"{digits[:cut]}-{digits[cut:]}"
    elif re.fullmatch(r"(?:400|800)\d{7}", digits):
        number = f"{digits[:3]}-{digits[3:6]}-{digits[6:]}"
    elif re.fullmatch(r"1\d{2,4}", digits):
        number = digits  # service numbers: 110, 12345, 12351 (the union's hotline)
    elif re.fullmatch(r"[2-8]\d{6,7}", digits):
        number = f"{HAINAN_AREA}-{digits}"
        warning = f"phone {original!r}: no area code; taken as Hainan's 0898"
    else:
        return None, None, f"phone {original!r}: {raw!r} has {len(digits)} digits, not a mobile or landline number"
    return (f"{number} 转 {ext}" if ext else number), warning, None


def read_phone(value: Any) -> PhoneReading:
    """Normalise a register's phone cell (text, or a number as Excel stored it)."""
    if value is None:
        return PhoneReading("")
    if isinstance(value, bool):
        return PhoneReading("", problem=f"phone {value!r} is not a telephone number")
    if isinstance(value, float):
        if not value.is_integer() or value >= 1e15:
            return PhoneReading("", problem=f"phone {value!r} is not a telephone number")
        value = str(int(value))
    elif isinstance(value, int):
        value = str(value)
    original = str(value)
    text = unicodedata.normalize("NFKC", original).strip()
    if not text:
        return PhoneReading("")
    if _SCIENTIFIC.match(text.replace(" ", "")):
        return PhoneReading(
            "",
            problem=f"phone {original!r} was written in scientific notation by a spreadsheet, "
            "so its last digits are lost; type the number again as text",
        )
    out: list[str] = []
    warnings: list[str] = []
    for part in (p for p in _SPLIT.split(text) if p):
        number, warning, problem = _one(part, original)
        if problem is not None:
            return PhoneReading("", problem=problem)
        out.append(number or "")
        if warning:
            warnings.append(warning)
    return PhoneReading("; ".join(out), warning="; ".join(warnings) or None)
