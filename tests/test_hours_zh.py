"""Opening hours as Chinese offices write them → OpenStreetMap syntax (the importer's table of cases)."""

from __future__ import annotations

from datetime import datetime, time

import pytest

from locator.hours import is_open, parse_error
from locator.hours_zh import read_hours


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("周一至周五 8:00-18:00", "Mo-Fr 08:00-18:00"),
        ("周一至周五 ８：００－１８：００", "Mo-Fr 08:00-18:00"),  # full-width digits, colon and dash
        ("星期一到星期六 8:00—12:00 14:00—17:30", "Mo-Sa 08:00-12:00,14:00-17:30"),
        ("礼拜一至礼拜五 9:00~17:00", "Mo-Fr 09:00-17:00"),
        ("工作日9:00-17:00", "Mo-Fr 09:00-17:00"),
        ("工作日 上午9点至12点 下午2点至5点半", "Mo-Fr 09:00-12:00,14:00-17:30"),
        ("上午8:00-12:00，下午2:30-6:00", "08:00-12:00,14:30-18:00"),
        ("早上8点到晚上9点", "08:00-21:00"),
        ("8点-18点", "08:00-18:00"),
        ("8时30分至17时", "08:30-17:00"),
        ("8:30至17:30", "08:30-17:30"),
        ("每天 7:00-22:00", "Mo-Su 07:00-22:00"),
        ("周一、周三、周五 9:00-11:00", "Mo,We,Fr 09:00-11:00"),
        ("周一至周五9:00-17:00，周末休息", "Mo-Fr 09:00-17:00; Sa,Su off"),
        ("周二至周日9:00-17:00（周一闭馆）", "Tu-Su 09:00-17:00; Mo off"),
        ("周六至周日 9:00-17:00，节假日休息", "Sa,Su 09:00-17:00; PH off"),
        ("周日至周一 8:00-9:00", "Mo,Su 08:00-09:00"),
        ("24小时", "24/7"),
        ("24小时开放", "24/7"),
        ("全天", "24/7"),
        ("全天开放", "24/7"),
        ("全天候", "24/7"),
        ("00:00-24:00", "00:00-24:00"),  # valid OSM as it stands
        ("Mo-Fr 08:00-18:00", "Mo-Fr 08:00-18:00"),  # already OSM: unchanged
        ("24/7", "24/7"),
    ],
)
def test_read_hours_gives_valid_osm(cell, expected):
    reading = read_hours(cell)
    assert reading.expr == expected, reading
    assert reading.problem is None
    assert parse_error(reading.expr) is None


@pytest.mark.parametrize(
    ("cell", "problem"),
    [
        ("看情况", "could not read '看情况'"),
        ("节假日照常开放", "days without times"),
        ("周末休息，其余看通知", "could not read '其余看通知'"),
        ("25:00-26:00", "out of range"),
        ("8:00-12:60", "out of range"),
        (time(8, 0), "a single time, not a range"),
        (datetime(2025, 1, 1, 8, 30), "a single time, not a range"),
    ],
)
def test_unreadable_hours_are_a_problem_quoting_the_text_never_a_guess(cell, problem):
    reading = read_hours(cell)
    assert reading.expr is None and not reading.ok
    assert problem in (reading.problem or "")


@pytest.mark.parametrize("cell", [None, "", "   "])
def test_empty_hours_are_unknown_without_a_problem(cell):
    assert read_hours(cell).expr is None and read_hours(cell).problem is None


def test_read_hours_mean_what_they_say():
    expr = read_hours("周一至周五9:00-17:00，周末休息").expr
    assert is_open(expr, datetime(2026, 12, 2, 10, 0)) is True  # a Wednesday
    assert is_open(expr, datetime(2026, 12, 2, 18, 0)) is False
    assert is_open(expr, datetime(2026, 12, 5, 10, 0)) is False  # Saturday
    night = read_hours("上午8:00-12:00，下午2:30-6:00").expr
    assert is_open(night, datetime(2026, 12, 2, 17, 59)) is True
    assert is_open(night, datetime(2026, 12, 2, 13, 0)) is False
