"""The admin import page: the plan ``locator import`` makes, shown line for line, confirmed, written as the admin.

Each test uploads a file shaped like an office's register and compares the
page's report with what the command prints for the same file, so the page and
the CLI cannot drift apart.
"""

from __future__ import annotations

import csv
import hashlib
import html
import io
import random
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import Workbook
from werkzeug.security import generate_password_hash

from locator import create_app
from locator.cli import main
from locator.geo import from_wgs84
from locator.venues import load_venues
from locator.web.state import get_register

from .conftest import GEODATA
from .test_admin import csrf, login

HEADER = ["序号", "名称", "类别", "所属市县", "地址", "经度", "纬度", "开放时间", "联系电话"]
GOOD = [
    ["1", "滨海大道户外劳动者服务站", "户外劳动者服务站", "龙华区", "滨海大道105号", "110.3201", "20.0402",
     "周一至周五 8:00-18:00", "0898-66512345"],
    ["2", "海秀职工书屋", "职工书屋", "龙华区", "海秀路9号", "110.3005", "20.0205", "24小时", "13876543210"],
]  # fmt: skip
BAD = ["3", "坏坐标站", "职工之家", "龙华区", "海秀路10号", "110.31", "", "", ""]
FOOTER = "填报单位：<b>海口市总工会</b>（盖章）"


@pytest.fixture
def admin_app(tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "DATABASE": str(tmp_path / "admin.sqlite3"),
            "INDEX_REFRESH_SECONDS": 3600,  # the write is served at once, not by the refresh interval
            "ADMIN_USERS_FILE": str(tmp_path / "users.json"),
            "ADMIN_USERS": {
                "ops": generate_password_hash("correct horse battery"),
                "ops2": generate_password_hash("another horse battery"),
            },
            "ADMIN_TOKENS": {hashlib.sha256(b"unused-token").hexdigest(): "api-bot"},
        }
    )
    app.instance_path = str(tmp_path / "instance")  # uploads are kept here, not in the checkout's instance folder
    return app


@pytest.fixture
def c(admin_app):
    return admin_app.test_client()


@pytest.fixture
def cli(tmp_path, monkeypatch):
    """``locator import`` on its own register, run from the upload's folder so it names the file as the page does."""
    monkeypatch.setenv("LOCATOR_DATABASE", str(tmp_path / "cli.sqlite3"))
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    def run(*args: str):
        r = runner.invoke(main, list(args), catch_exceptions=False)
        return r, r.stdout.splitlines(), r.stderr.splitlines()

    return run


def office_csv(path: Path, rows: list[list[str]]) -> Path:
    """As an office lays it out: a title, a blank row, the header, the rows, a blank row, a sign-off footer."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(
        [["海口市户外劳动者服务站名单（2025年）"], [], HEADER, *rows, [], [FOOTER]]
    )
    path.write_bytes(buf.getvalue().encode("utf-8"))
    return path


def bd09_xlsx(path: Path) -> Path:
    venues = random.Random(1).sample(load_venues(GEODATA / "venues.geojson"), 40)
    wb = Workbook()
    ws = wb.active
    ws.append(["编号", "名称", "类别", "所属市县", "经度", "纬度"])
    for v in venues:
        lon, lat = from_wgs84(v.lon, v.lat, "bd09")
        ws.append([v.id, v.name, "职工之家", v.district_code, round(float(lon), 7), round(float(lat), 7)])
    wb.save(path)
    return path


def upload(c, path: Path, crs="wgs84", mode="merge", dry_run=False, token=None):
    data = {
        "csrf_token": token or csrf(c, "/admin/import"),
        "crs": crs,
        "mode": mode,
        "file": (io.BytesIO(path.read_bytes()), path.name),
    }
    if dry_run:
        data["dry_run"] = "1"
    return c.post("/admin/import", data=data, content_type="multipart/form-data")


def shown(r) -> list[str]:
    """The report lines on the page, unescaped: what an admin reads."""
    m = re.search(r'<ol class="report" id="report-lines">(.*?)</ol>', r.get_data(as_text=True), re.S)
    assert m, r.get_data(as_text=True)[:2000]
    return [html.unescape(li) for li in re.findall(r"<li[^>]*>(.*?)</li>", m.group(1), re.S)]


def kept_uploads(admin_app) -> list[Path]:
    root = Path(admin_app.instance_path) / "imports"
    return sorted(root.iterdir()) if root.exists() else []


def upload_token(r) -> str:
    m = re.search(r'name="token" value="([^"]+)"', r.get_data(as_text=True))
    assert m, r.get_data(as_text=True)[:2000]
    return m.group(1)


def test_a_bad_row_shows_the_cli_report_line_for_line_escaped_and_writes_nothing(c, admin_app, cli, tmp_path):
    path = office_csv(tmp_path / "office.csv", [*GOOD, BAD])
    _, out, _ = cli("import", path.name, "--crs", "wgs84")
    store = get_register(admin_app).store
    version = store.version()
    login(c)
    r = upload(c, path)
    assert r.status_code == 422
    assert out == [
        "header found on row 3; the rows above it were skipped as titles",
        "columns not used: '序号'",
        "row 4: opening hours '周一至周五 8:00-18:00' read as 'Mo-Fr 08:00-18:00'",
        "row 5: opening hours '24小时' read as '24/7'",
        "row 6: error: lon/lat: only one coordinate given ('110.31', '')",
        f"row 8: footer '{FOOTER}'; it and the rows after it are not read",
        "3 rows read: 2 valid, 1 invalid, 0 warning(s)",
        "nothing written: fix the invalid rows, or pass --skip-invalid to write the valid ones",
    ]
    assert shown(r) == out
    body = r.get_data(as_text=True)
    assert "<b>海口市总工会</b>" not in body and "&lt;b&gt;海口市总工会&lt;/b&gt;" in body  # the footer, escaped
    assert 'name="token"' not in body  # nothing to confirm
    assert store.version() == version and store.audit_log() == []
    assert kept_uploads(admin_app) == []


def test_a_dry_run_of_a_valid_file_writes_nothing(c, admin_app, cli, tmp_path):
    path = office_csv(tmp_path / "office.csv", GOOD)
    r_cli, out, _ = cli("import", path.name, "--crs", "wgs84", "--dry-run")
    assert r_cli.exit_code == 0
    store = get_register(admin_app).store
    version = store.version()
    login(c)
    r = upload(c, path, dry_run=True)
    assert r.status_code == 200
    assert shown(r) == out and out[-1] == "dry run: nothing written"
    assert "opening hours '周一至周五 8:00-18:00' read as 'Mo-Fr 08:00-18:00'" in " ".join(out)
    assert 'name="token"' not in r.get_data(as_text=True)
    assert store.version() == version and store.audit_log() == []
    assert kept_uploads(admin_app) == []


def test_confirm_writes_once_as_the_admin_and_deletes_the_upload(c, admin_app, cli, tmp_path):
    path = office_csv(tmp_path / "office.csv", GOOD)
    _, dry, _ = cli("import", path.name, "--crs", "wgs84", "--dry-run")
    _, wet, _ = cli("import", path.name, "--crs", "wgs84")
    reg = get_register(admin_app)
    version = reg.store.version()
    login(c)
    r = upload(c, path)
    assert r.status_code == 200
    assert shown(r) == dry[:-1]  # the report, without a verdict: the write waits for the confirmation
    assert "确认并写入" in r.get_data(as_text=True)
    assert reg.store.version() == version  # nothing written on upload
    assert len(kept_uploads(admin_app)) == 2  # the file's folder and its record
    token = upload_token(r)

    form_token = csrf(c, "/admin/import")
    r = c.post("/admin/import/confirm", data={"csrf_token": form_token, "token": token, "action": "write"})
    assert r.status_code == 200
    lines = shown(r)
    assert lines[:-1] == wet[:-1]
    new_version = reg.store.version()
    assert lines[-1] == (
        f"wrote 2 venues (merge); register version {new_version}; the previous register is kept (locator versions)"
    )
    assert re.sub(r"version \d+", "", wet[-1]) == re.sub(r"version \d+", "", lines[-1])  # the CLI's closing line
    names = {v.name: v for v in reg.store.venues()}
    assert {"滨海大道户外劳动者服务站", "海秀职工书屋"} <= set(names)
    assert names["海秀职工书屋"].source == "imported from office.csv"  # the upload's own name, not a temp path
    assert names["滨海大道户外劳动者服务站"].opening_hours == "Mo-Fr 08:00-18:00"
    entry = reg.store.audit_log()[0]
    assert (entry.actor, entry.action) == ("ops", "merge") and "import office.csv (merge)" in entry.note
    assert reg.index.nearest(110.3201, 20.0402, k=1)[0][0].name == "滨海大道户外劳动者服务站"  # served at once
    assert kept_uploads(admin_app) == []

    r = c.post("/admin/import/confirm", data={"csrf_token": form_token, "token": token, "action": "write"})
    assert r.status_code == 410  # a second click writes nothing
    assert reg.store.version() == new_version


def test_a_bd09_file_without_crs_is_refused_naming_the_datum(c, admin_app, cli, tmp_path):
    path = bd09_xlsx(tmp_path / "baidu.xlsx")
    r_cli, out, err = cli("import", path.name)
    assert r_cli.exit_code == 1 and out == []
    store = get_register(admin_app).store
    version = store.version()
    login(c)
    r = upload(c, path, crs="auto")
    assert r.status_code == 422
    assert shown(r) == [
        "the points fit bd09 (Baidu) far better: 40 of 40 fall in their named district under bd09, 32 under wgs84; "
        "pass --crs bd09"
    ]
    assert err == ["locator: error: " + shown(r)[0]]
    assert store.version() == version and kept_uploads(admin_app) == []


def test_an_unreadable_upload_names_the_file_not_the_server_path(c, admin_app, tmp_path):
    path = tmp_path / "名单.doc"
    path.write_bytes(b"not a register")
    login(c)
    r = upload(c, path)
    assert r.status_code == 400
    assert shown(r) == ["'名单.doc': unknown file type '.doc'; expected .csv, .xlsx or .geojson"]
    assert admin_app.instance_path not in r.get_data(as_text=True)
    assert kept_uploads(admin_app) == []


def test_the_page_needs_a_login(c, admin_app, tmp_path):
    r = c.get("/admin/import")
    assert r.status_code == 302 and "/admin/login" in r.headers["Location"]
    token = csrf(c, "/admin/login")
    r = upload(c, office_csv(tmp_path / "office.csv", GOOD), token=token)
    assert r.status_code == 401
    r = c.post("/admin/import/confirm", data={"csrf_token": token, "token": "x" * 24})
    assert r.status_code == 401
    assert kept_uploads(admin_app) == []


def test_a_post_without_the_csrf_token_is_refused(c, admin_app, tmp_path):
    store = get_register(admin_app).store
    version = store.version()
    login(c)
    path = office_csv(tmp_path / "office.csv", GOOD)
    r = c.post(
        "/admin/import",
        data={"crs": "wgs84", "mode": "merge", "file": (io.BytesIO(path.read_bytes()), path.name)},
        content_type="multipart/form-data",
    )
    assert r.status_code == 403 and "CSRF" in r.get_data(as_text=True)
    assert store.version() == version and kept_uploads(admin_app) == []


def test_another_admin_cannot_confirm_an_upload(c, admin_app, tmp_path):
    login(c)
    token = upload_token(upload(c, office_csv(tmp_path / "office.csv", GOOD)))
    other = admin_app.test_client()
    form_token = csrf(other, "/admin/login")
    other.post("/admin/login", data={"username": "ops2", "password": "another horse battery", "csrf_token": form_token})
    store = get_register(admin_app).store
    version = store.version()
    r = other.post("/admin/import/confirm", data={"csrf_token": csrf(other, "/admin/import"), "token": token})
    assert r.status_code == 410 and store.version() == version
    r = c.post("/admin/import/confirm", data={"csrf_token": csrf(c, "/admin/import"), "token": token})
    assert r.status_code == 200 and store.version() > version  # still there for its owner


def test_an_upload_over_the_body_limit_is_refused_before_it_is_stored(c, admin_app, tmp_path):
    login(c)
    path = tmp_path / "big.csv"
    path.write_bytes(b"x" * (admin_app.config["MAX_CONTENT_LENGTH"] + 1))
    r = upload(c, path)
    assert r.status_code == 413 and kept_uploads(admin_app) == []


def test_a_stale_upload_is_not_written(c, admin_app, tmp_path, monkeypatch):
    from locator.web import admin_import

    login(c)
    token = upload_token(upload(c, office_csv(tmp_path / "office.csv", GOOD)))
    store = get_register(admin_app).store
    version = store.version()
    monkeypatch.setattr(admin_import, "KEEP_SECONDS", -1)  # every upload is now older than it may be
    r = c.post("/admin/import/confirm", data={"csrf_token": csrf(c, "/admin/import"), "token": token})
    assert r.status_code == 410 and store.version() == version
    assert kept_uploads(admin_app) == []


def test_the_page_is_chinese_first_and_english_on_request(c, tmp_path):
    login(c)
    assert "导入名录文件" in c.get("/admin/import").get_data(as_text=True)
    body = c.get("/admin/import?lang=en").get_data(as_text=True)
    assert "Import a register file" in body and "Upload and check" in body
    text = re.sub(r"<[^>]+>", " ", body).replace("中文", "")
    assert not re.search(r"[\u4e00-\u9fff]", text)
