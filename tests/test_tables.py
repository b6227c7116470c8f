"""Finding the table in a register laid out as offices do it, and refusing XLSX files too big to read."""

from __future__ import annotations

import io
import zipfile

import pytest
from openpyxl import Workbook

from locator.errors import DataError
from locator.io.tables import check_xlsx, find_table

ALIASES = {"名称": "name", "类别": "category", "经度": "lon", "纬度": "lat", "坐标": "coords", "地址": "address"}

TITLE_LAYOUT = [
    ["海口市户外劳动者服务站名单（2025年）", None, None, None],
    [None, None, None, None],
    ["填报日期：2025年3月1日", None, None, None],
    ["名称", "类别", "坐标", "负责人电话"],
    ["龙华站", "户外劳动者服务站", "110.3312,20.0311", "13800000000"],
    [None, None, None, None],
    ["秀英站", "户外劳动者服务站", "110.2792,20.0065", None],
    ["填报单位：海口市总工会（盖章）", None, None, None],
    ["不应读到的行", "职工书屋", "110,20", None],
]


def test_title_blank_and_footer_rows_are_skipped_and_said():
    t = find_table(TITLE_LAYOUT, ALIASES, required=("name", "category"))
    assert t.header_row == 4
    assert t.keys == ("name", "category", "coords", None)
    assert [n for n, _ in t.rows] == [5, 7]
    assert t.footer_row == 8 and t.footer_text.startswith("填报单位")
    assert t.unused == ("负责人电话",)
    assert t.notes() == [
        "header found on row 4; the rows above it were skipped as titles",
        "columns not used: '负责人电话'",
        "row 8: footer '填报单位：海口市总工会（盖章）'; it and the rows after it are not read",
    ]


@pytest.mark.parametrize("header", ["名称（必填）", "名称*", " 名称 ", "名 称"])
def test_decorated_headers_are_recognised(header):
    t = find_table([[header, "类别"], ["a", "b"]], ALIASES, required=("name", "category"))
    assert t.header_row == 1 and t.keys == ("name", "category") and t.notes() == []


@pytest.mark.parametrize("footer", ["制表人：张三", "审核人：李四", "合计", "总计 2 个"])
def test_each_footer_word_ends_the_table(footer):
    t = find_table([["名称"], ["a"], [footer], ["b"]], ALIASES)
    assert [n for n, _ in t.rows] == [2] and t.footer_row == 3


def test_a_row_that_only_mentions_a_footer_word_among_many_cells_is_data():
    t = find_table([["名称", "类别", "地址", "经度"], ["合计站", "职工书屋", "某路", "110"]], ALIASES)
    assert [n for n, _ in t.rows] == [2] and t.footer_row is None


def test_no_header_names_what_was_looked_for_and_the_best_candidate():
    with pytest.raises(DataError, match=r"row 2 looks like the header \(经度, 纬度\) but has no column for name"):
        find_table([["标题"], ["经度", "纬度"], ["1", "2"]], ALIASES, path="x.xlsx")
    with pytest.raises(DataError, match="no header row in the first 15 rows"):
        find_table([["甲", "乙"]] * 20, ALIASES)


def _xlsx(rows: int = 3) -> bytes:
    wb = Workbook()
    ws = wb.active
    for i in range(rows):
        ws.append([f"站{i}", "职工书屋"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_an_ordinary_workbook_passes():
    check_xlsx(_xlsx())


def test_a_zip_bomb_is_refused_before_parsing():
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(_xlsx())) as src, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info))
        dst.writestr("xl/media/padding.bin", b"\0" * 3_000_000)
    data = buf.getvalue()
    assert len(data) < 100_000  # small on disk
    with pytest.raises(DataError, match=r"unpacks to 3 MB, over the limit of 1 MB"):
        check_xlsx(data, "bomb.xlsx", max_bytes=1_000_000)


def test_too_many_rows_are_refused_from_the_declared_dimension():
    with pytest.raises(DataError, match="the sheet has 120 rows, over the limit of 100"):
        check_xlsx(_xlsx(120), max_rows=100)


def test_not_a_zip_is_unreadable():
    with pytest.raises(DataError, match="not a zip file"):
        check_xlsx(b"name,category\n", "x.xlsx")
