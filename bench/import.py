"""Benchmark: ``read_register`` on registers shaped like the real ones.

Run: .venv/bin/python bench/import.py [--rows 3000] [--same-name 4000]

Prints
- seconds per 1,000 rows for an XLSX of ``--rows`` rows (a merged title row,
  a blank row, the header, a footer) whose opening hours are written in
  Chinese (周一至周五 8:00-18:00, 24小时, 工作日9:00-17:00, …) and whose
  phones and coordinates are in register shapes; the issue's target is 1 s;
- the time for ``--same-name`` rows that all share one name, spread over the
  island (the duplicate check buckets by name and a grid, so this should be
  about as fast as distinct names, not quadratic).
Nothing is asserted: speed lives here, not in the tests.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from openpyxl import Workbook  # noqa: E402

from locator.districts import load_districts  # noqa: E402
from locator.gazetteer import load_gazetteer  # noqa: E402
from locator.io.importer import read_register  # noqa: E402
from locator.venues import load_venues  # noqa: E402

HOURS = [
    "周一至周五 8:00-18:00",
    "24小时",
    "工作日9:00-17:00",
    "上午8:00-12:00，下午2:30-6:00",
    "全天开放",
    "每天9:00-21:00",
]
CATEGORIES = ["职工之家", "职工书屋", "户外劳动者服务站", "职工服务(帮扶)中心"]


def write_xlsx(path: Path, n: int, same_name: bool) -> Path:
    """``n`` rows at jittered positions of the shipped venues (so every point is on land)."""
    rng = random.Random(7)
    seeds = load_venues(ROOT / "geodata" / "venues.geojson")
    wb = Workbook(write_only=True)
    ws = wb.create_sheet()
    ws.append(["海口市户外劳动者服务站名单（2025年）"])
    ws.append([])
    ws.append(["序号", "名称", "类别", "地址", "经度", "纬度", "开放时间", "联系电话"])
    for i in range(n):
        v = seeds[i % len(seeds)]
        lon, lat = v.lon + rng.uniform(-2e-4, 2e-4), v.lat + rng.uniform(-2e-4, 2e-4)
        name = "户外劳动者服务站" if same_name else f"{v.name}{i}"
        ws.append([i + 1, name, CATEGORIES[i % 4], f"某路{i}号", lon, lat, HOURS[i % len(HOURS)], "0898-66512345"])
    ws.append(["填报单位：海口市总工会（盖章）"])
    wb.save(path)
    return path


def timed(path: Path) -> tuple[float, int, int]:
    districts = load_districts(ROOT / "geodata" / "districts_land.geojson")
    gazetteer = load_gazetteer(ROOT / "geodata" / "places.json")
    start = time.perf_counter()
    report = read_register(path, districts, None, gazetteer)
    return time.perf_counter() - start, len(report.venues), len(report.invalid_rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=3000)
    ap.add_argument("--same-name", type=int, default=4000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = write_xlsx(Path(tmp) / "register.xlsx", args.rows, same_name=False)
        seconds, valid, invalid = timed(path)
        print(
            f"{args.rows:,}-row XLSX with Chinese hours: {seconds:.2f} s, {seconds / args.rows * 1000:.2f} s per "
            f"1,000 rows ({valid:,} valid, {invalid:,} invalid)"
        )
        path = write_xlsx(Path(tmp) / "same.xlsx", args.same_name, same_name=True)
        seconds, valid, invalid = timed(path)
        print(
            f"{args.same_name:,} rows sharing one name: {seconds:.2f} s "
            f"({valid:,} valid, {invalid:,} invalid: duplicates within 50 m)"
        )


if __name__ == "__main__":
    main()
