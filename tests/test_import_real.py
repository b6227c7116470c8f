"""Importing registers shaped like the ones union offices keep: every line of each report, and the exit code.

Each test builds its file the way an office's file looks (a merged title, a
blank row, a footer; a GBK CSV with one 坐标 column; Chinese hours; phones
Excel mangled; rows with only an address; whole files in Baidu's or Amap's
datum) and runs ``locator import`` through click's runner.
"""

from __future__ import annotations

import csv
import io
import random
import sqlite3
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import Workbook

from locator.cli import main
from locator.districts import load_districts
from locator.geo import distance_m, from_wgs84
from locator.io.importer import read_register
from locator.storage.sqlite import SQLiteStore
from locator.venues import Venue, load_venues

from .conftest import GEODATA

TITLE = "海口市户外劳动者服务站名单（2025年）"
HEADER = ["序号", "名称", "类别", "所属市县", "地址", "经度", "纬度", "开放时间", "联系电话", "负责人"]


@pytest.fixture
def cli(tmp_path, monkeypatch):
    db = tmp_path / "reg.sqlite3"
    monkeypatch.setenv("LOCATOR_DATABASE", str(db))
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(main, list(args), catch_exceptions=False)

    run.db = db  # type: ignore[attr-defined]
    return run


def office_xlsx(path: Path, rows: list[list[object]], footer: str = "填报单位：海口市总工会（盖章）") -> Path:
    """A sheet as an office lays it out: merged title, blank row, header, rows, blank row, sign-off footer."""
    wb = Workbook()
    ws = wb.active
    ws.append([TITLE])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADER))
    ws.append([])
    ws.append(HEADER)
    for r in rows:
        ws.append(r)
    ws.append([])
    ws.append([footer, None, None, None, None, "制表人：王某"])
    ws.append(["备注：本表不含乡镇站点"])
    wb.save(path)
    return path


def lines(result) -> list[str]:
    return result.output.splitlines()


def test_office_xlsx_with_title_footer_chinese_hours_phones_and_address_only_rows(cli, tmp_path):
    rows = [
        [1, "滨海大道户外劳动者服务站", "户外劳动者服务站", "龙华区", "滨海大道105号", 110.3201, 20.0402,
         "周一至周五 8:00-18:00", "0898-66512345", "张三"],
        [2, "海秀职工书屋", "职工书屋", "龙华区", "海秀路9号", "110.3005", "20.0205",
         "24小时", "1.38765E+10", "李四"],
        [3, "嘉积镇职工服务中心", "职工服务(帮扶)中心", "琼海市", "爱华路66号", 110.4660, 19.2480,
         "工作日9:00-17:00", 89862812345, ""],
        [4, "那大镇职工之家", "职工之家", "儋州市", "海南省儋州市那大镇人民中路8号", None, None,
         "上午8:00-12:00，下午2:30-6:00", "13876543210", ""],
        [5, "无处可寻职工书屋", "职工书屋", "", "某某路18号", None, None, "", "", ""],
        [6, "国兴大道职工之家", "职工之家", "美兰区", "国兴大道5号", 110.3650, 20.0300,
         "节假日照常开放，每天早八点", "", ""],
        [7, "Mo-Fr站", "其他", "龙华区", "龙昆南路1号", 110.3250, 20.0150, "Mo-Fr 08:00-17:30", "", ""],
    ]  # fmt: skip
    path = office_xlsx(tmp_path / "海口市站点.xlsx", rows)
    r = cli("import", str(path), "--crs", "wgs84")
    assert lines(r) == [
        "header found on row 3; the rows above it were skipped as titles",
        "columns not used: '序号', '负责人'",
        "row 4: opening hours '周一至周五 8:00-18:00' read as 'Mo-Fr 08:00-18:00'",
        "row 5: warning: phone: phone '1.38765E+10' was written in scientific notation by a spreadsheet, so its last "
        "digits are lost; type the number again as text; the venue is kept without a phone",
        "row 5: opening hours '24小时' read as '24/7'",
        "row 6: warning: phone: phone '89862812345': restored the leading 0 of the area code 0898 "
        "(Excel drops it from numbers)",
        "row 6: opening hours '工作日9:00-17:00' read as 'Mo-Fr 09:00-17:00'",
        "row 7: located at 那大镇 (town level) from its address",
        "row 7: opening hours '上午8:00-12:00，下午2:30-6:00' read as '08:00-12:00,14:30-18:00'",
        "row 8: error: lon/lat: no coordinates, and no town in its address '某某路18号' is known; add coordinates "
        "(经度 and 纬度, or 坐标), or the town's name (e.g. 那大镇) to the address",
        "row 9: warning: opening_hours: opening hours '节假日照常开放，每天早八点': could not read '早八点'; "
        "left unknown",
        "row 12: footer '填报单位：海口市总工会（盖章）'; it and the rows after it are not read",
        "7 rows read: 6 valid, 1 invalid, 3 warning(s)",
        "nothing written: fix the invalid rows, or pass --skip-invalid to write the valid ones",
    ]
    assert r.exit_code == 1
    r = cli("import", str(path), "--crs", "wgs84", "--skip-invalid")
    assert r.exit_code == 1 and lines(r)[-1].startswith("wrote 6 venues (merge); register version ")
    venues = {v.name: v for v in SQLiteStore(cli.db).venues()}
    nada = venues["那大镇职工之家"]
    assert (nada.location_precision, nada.district_code, nada.lon, nada.lat) == ("town", "460400", 109.57895, 19.52134)
    assert venues["海秀职工书屋"].phone == "" and venues["海秀职工书屋"].opening_hours == "24/7"
    assert venues["嘉积镇职工服务中心"].phone == "0898-62812345"
    assert venues["国兴大道职工之家"].opening_hours is None
    assert venues["滨海大道户外劳动者服务站"].location_precision == "exact"
    # the flag reaches the API and the export
    out = cli("nearest", "--lat", "19.5213", "--lon", "109.5789", "-k", "1", "--format", "json").output
    assert '"location_precision": "town"' in out
    exported = cli("export", "--format", "csv").output
    assert exported.splitlines()[0].endswith(",状态,位置精度,登记版本") and "那大镇职工之家" in exported


def test_gbk_csv_with_one_coordinate_column_dms_and_hemisphere_words(cli, tmp_path):
    rows = [
        ["站点名称", "阵地类型", "所属市县", "详细地址", "坐标（经度,纬度）", "开放时间"],
        ["坐标站一", "职工之家", "龙华区", "滨海大道1号", "110.3312,20.0311", "周一至周日 9:00-21:00"],
        ["坐标站二", "职工书屋", "龙华区", "海秀路2号", "20.0205, 110.3005", ""],
        ["坐标站三", "职工之家", "美兰区", "国兴大道3号", "东经110°21′54″ 北纬20°1′48″", ""],
        ["坐标站四", "职工之家", "琼海市", "爱华路4号", 'E110°27′57.6" N19°14′52.8"', ""],
        ["坐标站五", "职工之家", "龙华区", "海秀路5号", "１１０．３１２，２０．０２１", ""],
        ["坐标站六", "职工之家", "龙华区", "海秀路6号", "110.31", ""],
    ]
    path = tmp_path / "坐标.csv"
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    path.write_bytes(buf.getvalue().encode("gbk"))
    r = cli("import", str(path), "--crs", "wgs84", "--dry-run")
    assert lines(r) == [
        "row 2: opening hours '周一至周日 9:00-21:00' read as 'Mo-Su 09:00-21:00'",
        "row 7: error: lon/lat: '110.31' is not a coordinate pair (expected e.g. '110.3312,20.0311')",
        "6 rows read: 5 valid, 1 invalid, 0 warning(s)",
        "dry run: nothing written",
    ]
    assert r.exit_code == 1


def test_bounds_long_fields_unsafe_ids_and_duplicates(cli, tmp_path):
    rows = [
        ["编号", "名称", "类别", "经度", "纬度", "说明"],
        ["ok-1", "好站", "职工之家", "110.3201", "20.0402", ""],
        ["a/b/../c", "坏编号站", "职工之家", "110.3301", "20.0402", ""],
        ["..", "点编号站", "职工之家", "110.3401", "20.0402", ""],
        ["ok-2", "长" * 100_000, "职工之家", "110.3201", "20.0302", ""],
        ["ok-3", "说明站", "职工之家", "110.3101", "20.0302", "很" * 1001],
        ["ok-4", "好站", "职工之家", "110.3202", "20.0403", ""],
    ]
    path = tmp_path / "bounds.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    r = cli("import", str(path), "--crs", "wgs84")
    assert lines(r) == [
        "row 3: error: id: id 'a/b/../c' is not allowed: use 1 to 64 letters, digits, '.', '_' or '-' (not only dots)",
        "row 4: error: id: id '..' is not allowed: use 1 to 64 letters, digits, '.', '_' or '-' (not only dots)",
        "row 5: error: name: 100,000 characters, more than the 200 allowed",
        "row 6: error: description: 1,001 characters, more than the 1000 allowed",
        "row 7: error: name: duplicate of row 2: the same name within 50 m",
        "6 rows read: 1 valid, 5 invalid, 0 warning(s)",
        "nothing written: fix the invalid rows, or pass --skip-invalid to write the valid ones",
    ]
    assert r.exit_code == 1


def _datum_file(path: Path, crs: str) -> tuple[Path, dict[str, tuple[float, float]]]:
    venues = random.Random(1).sample(load_venues(GEODATA / "venues.geojson"), 40)
    wb = Workbook()
    ws = wb.active
    ws.append(["编号", "名称", "类别", "所属市县", "经度", "纬度"])
    for v in venues:
        lon, lat = from_wgs84(v.lon, v.lat, crs)
        ws.append([v.id, v.name, "职工之家", v.district_code, round(float(lon), 7), round(float(lat), 7)])
    wb.save(path)
    return path, {v.id: (v.lon, v.lat) for v in venues}


@pytest.mark.parametrize(
    ("crs", "message"),
    [
        (
            "bd09",
            "locator: error: the points fit bd09 (Baidu) far better: 40 of 40 fall in their named district under "
            "bd09, 32 under wgs84; pass --crs bd09",
        ),
        (
            "gcj02",
            "locator: error: the points fit gcj02 (Amap, Tencent) far better: 40 of 40 fall in their named district "
            "under gcj02, 36 under wgs84; pass --crs gcj02",
        ),
    ],
)
def test_a_file_in_another_datum_is_refused_naming_it_and_imports_exactly_with_the_flag(cli, tmp_path, crs, message):
    path, truth = _datum_file(tmp_path / f"{crs}.xlsx", crs)
    before = cli("versions").output
    r = cli("import", str(path))
    assert r.exit_code == 1 and lines(r) == [message]
    assert cli("versions").output == before  # nothing written
    r = cli("import", str(path), "--crs", crs, "--mode", "replace")
    assert r.exit_code == 0, r.output
    assert lines(r)[0] == "40 rows read: 40 valid, 0 invalid, 0 warning(s)"
    got = {v.id: v for v in SQLiteStore(cli.db).venues()}
    assert set(got) == set(truth)
    worst = max(float(distance_m(got[i].lon, got[i].lat, *truth[i])) for i in truth)
    assert worst < 1.0, f"a point lands {worst:.3f} m from its true WGS-84 position"


def test_a_wgs84_file_without_crs_is_accepted(cli, tmp_path):
    path, _ = _datum_file(tmp_path / "wgs84.xlsx", "wgs84")
    r = cli("import", str(path), "--dry-run")
    assert r.exit_code == 0 and lines(r) == [
        "40 rows read: 40 valid, 0 invalid, 0 warning(s)",
        "dry run: nothing written",
    ]


def test_an_xlsx_bomb_is_refused_before_parsing(cli, tmp_path):
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/worksheets/sheet1.xml", "<worksheet>" + " " * (70 * 1024 * 1024) + "</worksheet>")
    r = cli("import", str(path))
    assert r.exit_code == 2
    assert lines(r) == [
        f"locator: error: {str(path)!r} unpacks to 73 MB, over the limit of 67 MB; "
        "split it, or save it again from a spreadsheet program"
    ]


def test_an_environment_error_during_the_write_exits_3_with_one_line_and_writes_nothing(cli, tmp_path, monkeypatch):
    path = office_xlsx(
        tmp_path / "ok.xlsx",
        [[1, "好站", "职工之家", "龙华区", "滨海大道1号", 110.3201, 20.0402, "", "", ""]],
    )
    before = cli("versions").output

    def full(*args, **kwargs):
        raise sqlite3.OperationalError("database or disk is full")

    with monkeypatch.context() as m:
        m.setattr(SQLiteStore, "merge", full)
        r = cli("import", str(path), "--crs", "wgs84")
    assert r.exit_code == 3
    assert (
        lines(r)[-1] == "locator: error: nothing written: the disk under the register is full: database or disk is full"
    )
    assert not any("Traceback" in line for line in lines(r))
    assert cli("versions").output == before


def test_help_documents_the_exit_codes(cli):
    r = cli("import", "--help")
    text = " ".join(r.output.split())
    assert (
        "Exit status: 0 written (or, with --dry-run, would be); 1 invalid rows, a datum mismatch or conflicts" in text
    )
    assert "2 the file cannot be read, or bad usage; 3 an environment error" in text


def test_a_stale_export_merged_over_newer_edits_lists_each_conflict_and_writes_nothing_without_force(cli, tmp_path):
    export = tmp_path / "export.csv"
    assert cli("export", "--format", "csv", "-o", str(export)).exit_code == 0
    store = SQLiteStore(cli.db)
    exported_at = store.version()
    a, b, c, d = store.venues()[:4]
    # admins edit three venues after the export; the office edits a fourth in the file
    store.edit(replace(a, name=a.name + "（新址）"), actor="admin", action="update")
    store.edit(replace(b, phone="0898-66000000"), actor="admin", action="update")
    store.edit(replace(c, status="closed"), actor="admin", action="close")
    text = export.read_text(encoding="utf-8-sig").replace(d.address, "新地址99号", 1)
    export.write_text(text, encoding="utf-8-sig")
    edited = store.version()

    r = cli("import", str(export), "--crs", "wgs84")
    since = f"(changed since the export at version {exported_at})"
    assert lines(r) == [
        "2621 rows read: 2621 valid, 0 invalid, 0 warning(s)",
        f"conflict: venue {a.id!r}: name: file {a.name!r}, register {a.name + '（新址）'!r} {since}",
        f"conflict: venue {b.id!r}: phone: file {b.phone!r}, register '0898-66000000' {since}",
        f"conflict: venue {c.id!r}: status: file 'active', register 'closed' {since}",
        "nothing written: 3 conflict(s) in 3 venue(s) edited in the register since the export; "
        "pass --force to overwrite them",
    ]
    assert r.exit_code == 1 and store.version() == edited

    # replacing the register with the stale file would also drop a venue added since
    new = Venue(id="new-1", name="新建站", category="other", district_code="460106", lon=110.3301, lat=20.0302)
    store.edit(new, actor="admin", action="create")
    r = cli("import", str(export), "--crs", "wgs84", "--mode", "replace", "--dry-run")
    assert lines(r)[-3:] == [
        f"conflict: venue {c.id!r}: status: file 'active', register 'closed' {since}",
        f"conflict: venue 'new-1': venue: file None, register '新建站' {since}",
        "nothing written: 4 conflict(s) in 4 venue(s) edited in the register since the export; "
        "pass --force to overwrite them",
    ]
    assert r.exit_code == 1

    r = cli("import", str(export), "--crs", "wgs84", "--force")
    assert r.exit_code == 0 and lines(r)[-1].startswith("wrote 2621 venues (merge)")
    # the file's values win; the admin's edit still counts as a confirmation (an import keeps freshness)
    kept = store.get(a.id)
    assert kept == replace(a, last_confirmed=kept.last_confirmed) and kept.last_confirmed is not None
    assert store.get(d.id) == replace(d, address="新地址99号")


def test_a_file_without_register_versions_is_not_checked_for_conflicts(cli, tmp_path):
    path = tmp_path / "plain.csv"
    path.write_text("编号,名称,类别,经度,纬度\n" + "x-1,新站,职工之家,110.3201,20.0402\n", encoding="utf-8")
    r = cli("import", str(path), "--crs", "wgs84")
    assert r.exit_code == 0 and lines(r)[0] == "1 rows read: 1 valid, 0 invalid, 0 warning(s)"
    venue = SQLiteStore(cli.db).get("x-1")
    assert isinstance(venue, Venue) and venue.name == "新站"


def test_two_coordinate_columns_in_dms_hemisphere_words_and_full_width(cli, tmp_path):
    rows = [
        ["名称", "类别", "所属市县", "经度", "纬度"],
        ["度分秒站", "职工之家", "龙华区", "110°19′12″", "20°2′24″"],
        ["东经站", "职工之家", "龙华区", "东经110.3201", "北纬20.0302"],
        ["反列站", "职工之家", "龙华区", "北纬20.0202", "东经110.3101"],
        ["全角站", "职工之家", "龙华区", "１１０．３１０１", "２０．０１０２"],
        ["字母站", "职工之家", "龙华区", "E110.3001", "N20.0102"],
        ["坏分站", "职工之家", "龙华区", "110°61′", "20°1′"],
    ]
    path = tmp_path / "dms.csv"
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    path.write_bytes(buf.getvalue().encode("gbk"))
    r = cli("import", str(path), "--crs", "wgs84", "--dry-run")
    assert lines(r) == [
        "row 7: error: lon/lat: '110°61′': minutes and seconds must be under 60",
        "6 rows read: 5 valid, 1 invalid, 0 warning(s)",
        "dry run: nothing written",
    ]
    assert r.exit_code == 1
    got = {v.name: (v.lon, v.lat) for v in read_register(path, load_districts(GEODATA / "districts.geojson")).venues}
    assert got == {
        "度分秒站": (110.32, 20.04),
        "东经站": (110.3201, 20.0302),
        "反列站": (110.3101, 20.0202),
        "全角站": (110.3101, 20.0102),
        "字母站": (110.3001, 20.0102),
    }
