from __future__ import annotations

import json
from pathlib import Path

import pytest

from locator import create_app

ROOT = Path(__file__).resolve().parents[1]
GEODATA = ROOT / "geodata"


@pytest.fixture
def app(tmp_path):
    app = create_app({"TESTING": True, "DATABASE": str(tmp_path / "test.sqlite3"), "INDEX_REFRESH_SECONDS": 0})
    yield app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def feature(vid="t-1", name="测试站", category="outdoor_station", lon=110.33, lat=20.03, district="460106", **props):
    return {
        "type": "Feature",
        "id": vid,
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {"name": name, "category": category, "district_code": district, **props},
    }


def write_collection(path: Path, features) -> Path:
    path.write_text(
        json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False), encoding="utf-8"
    )
    return path
