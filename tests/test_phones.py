"""Phone numbers from real register files: normalised, restored with a warning, or refused with the reason."""

from __future__ import annotations

import pytest

from locator.phones import read_phone


@pytest.mark.parametrize(
    ("cell", "value"),
    [
        ("13876543210", "13876543210"),
        ("138 7654 3210", "13876543210"),
        ("138-7654-3210", "13876543210"),
        ("+86 138 7654 3210", "13876543210"),
        ("８６１３８７６５４３２１０", "13876543210"),  # full-width, with the country code, 13 digits
        (13876543210, "13876543210"),  # a number cell
        (13876543210.0, "13876543210"),  # Excel's float
        ("0898-68123456", "0898-68123456"),
        ("0898 6812 3456", "0898-68123456"),
        ("(0898)68123456", "0898-68123456"),
        ("（0898）6812345", "0898-6812345"),
        ("0898-68123456转8001", "0898-68123456 转 8001"),
        ("0898-68123456 ext. 12", "0898-68123456 转 12"),
        ("0898-68123456/13876543210", "0898-68123456; 13876543210"),
        ("0898-68123456、0898-68123457", "0898-68123456; 0898-68123457"),
        ("020-87654321", "020-87654321"),
        ("0756-1234567", "0756-1234567"),
        ("400-123-4567", "400-123-4567"),
        ("12351", "12351"),
        ("", ""),
        (None, ""),
    ],
)
def test_phones_are_normalised(cell, value):
    reading = read_phone(cell)
    assert (reading.value, reading.warning, reading.problem) == (value, None, None)


@pytest.mark.parametrize(
    ("cell", "value", "warning"),
    [
        ("89868123456", "0898-68123456", "restored the leading 0"),
        (89868123456, "0898-68123456", "restored the leading 0"),
        ("68123456", "0898-68123456", "no area code"),
    ],
)
def test_a_changed_meaning_is_a_warning(cell, value, warning):
    reading = read_phone(cell)
    assert reading.value == value and reading.problem is None
    assert warning in (reading.warning or "")


@pytest.mark.parametrize(
    ("cell", "problem"),
    [
        ("1.38765E+10", "scientific notation"),
        ("1.38765e10", "scientific notation"),
        (" 1.38765E+10 ", "scientific notation"),
        ("12345678901234", "14 digits"),
        ("0898-123", "not a mobile or landline"),
        ("电话见公告", "is not a telephone number"),
        (1.5, "is not a telephone number"),
        (True, "is not a telephone number"),
    ],
)
def test_an_untrustworthy_phone_is_a_problem_of_the_field(cell, problem):
    reading = read_phone(cell)
    assert reading.value == "" and problem in (reading.problem or ""), reading
