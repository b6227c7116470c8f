"""Venue categories and amenities: codes, Chinese and English names.

The codes are the project's stable identifiers; the names are for people.
Published totals are the Hainan Federation of Trade Unions' figures for its
2,621 worker service venues.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = [
    "AMENITIES",
    "CATEGORIES",
    "CATEGORY_CODES",
    "PUBLISHED_COUNTS",
    "PUBLISHED_TOTAL",
    "Amenity",
    "Category",
    "category_from_label",
]


class Category(NamedTuple):
    code: str
    name_zh: str
    name_en: str
    published_count: int


CATEGORIES: dict[str, Category] = {
    c.code: c
    for c in (
        Category("workers_home", "职工之家", "Workers' home", 656),
        Category("reading_room", "职工书屋", "Reading room", 1268),
        Category("service_center", "职工服务(帮扶)中心", "Service and aid centre", 103),
        Category("outdoor_station", "户外劳动者服务站", "Outdoor-worker rest station", 262),
        Category(
            "innovation_studio",
            "劳模和工匠人才创新工作室、职工创新工作室",
            "Innovation studio",
            157,
        ),
        Category("other", "其他", "Other", 175),
    )
}

CATEGORY_CODES: tuple[str, ...] = tuple(CATEGORIES)
PUBLISHED_COUNTS: dict[str, int] = {c.code: c.published_count for c in CATEGORIES.values()}
PUBLISHED_TOTAL = sum(PUBLISHED_COUNTS.values())  # 2621


class Amenity(NamedTuple):
    code: str
    name_zh: str
    name_en: str
    core: bool  # one of the local standards' "七个一 / 8个1" essentials


AMENITIES: dict[str, Amenity] = {
    a.code: a
    for a in (
        Amenity("indoor_room", "室内休息场所", "Indoor rest room", True),
        Amenity("seating", "桌椅", "Seats", True),
        Amenity("drinking_water", "饮水机", "Drinking water", True),
        Amenity("microwave", "微波炉", "Microwave", True),
        Amenity("air_conditioning", "空调", "Air conditioning", True),
        Amenity("toilet", "卫生间", "Toilet", True),
        Amenity("first_aid", "医药箱", "First-aid kit", True),
        Amenity("phone_charging", "手机充电", "Phone charging", False),
        Amenity("ebike_charging", "电动车充电", "E-bike charging", False),
        Amenity("wifi", "无线网络", "Wi-Fi", False),
        Amenity("books", "图书", "Books", False),
        Amenity("umbrella", "爱心雨伞", "Umbrellas", False),
    )
}

# Labels seen in registers, mapped to codes (exact match after stripping).
_LABELS: dict[str, str] = {}
for _c in CATEGORIES.values():
    for _label in (_c.code, _c.name_zh, _c.name_en, _c.name_en.lower()):
        _LABELS[_label] = _c.code
_LABELS.update(
    {
        "职工服务中心": "service_center",
        "职工帮扶中心": "service_center",
        "职工服务帮扶中心": "service_center",
        "职工服务（帮扶）中心": "service_center",
        "户外劳动者驿站": "outdoor_station",
        "户外劳动者服务驿站": "outdoor_station",
        "爱心驿站": "outdoor_station",
        "劳模创新工作室": "innovation_studio",
        "工匠人才创新工作室": "innovation_studio",
        "劳模和工匠人才创新工作室": "innovation_studio",
        "职工创新工作室": "innovation_studio",
        "司机之家": "other",
    }
)


def category_from_label(label: str) -> str | None:
    """The category code for a code or a Chinese/English label, else None."""
    return _LABELS.get(label.strip())
