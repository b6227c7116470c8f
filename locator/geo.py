"""Geodesy at the edges: WGS-84 distances, and the Chinese map datums.

Everything inside the project is WGS-84 (EPSG:4326). Amap and Tencent use
GCJ-02, Baidu uses BD-09; both are converted here, on the way in or out,
and never stored.

Distances are geodesics on the WGS-84 ellipsoid (Karney's algorithm through
``pyproj.Geod``), in metres.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import numpy.typing as npt
from pyproj import Geod

__all__ = [
    "CRS_NAMES",
    "GEOD",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "distance_m",
    "ecef",
    "from_wgs84",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "inverse",
    "out_of_china",
    "to_wgs84",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]

CrsName = Literal["wgs84", "gcj02", "bd09"]
CRS_NAMES: tuple[str, ...] = ("wgs84", "gcj02", "bd09")

GEOD = Geod(ellps="WGS84")

# WGS-84 ellipsoid, for Earth-centred Earth-fixed coordinates.
_A = 6378137.0
_F = 1 / 298.257223563
_E2 = _F * (2 - _F)

# Krasovsky 1940 constants used by the GCJ-02 obfuscation.
_GCJ_A = 6378245.0
_GCJ_EE = 0.00669342162296594323
_BD_PI = math.pi * 3000.0 / 180.0

FloatArray = npt.NDArray[np.float64]
ArrayLike = float | FloatArray | list[float]


def _arr(x: ArrayLike) -> FloatArray:
    return np.asarray(x, dtype=np.float64)


def _ret(x: FloatArray, like: ArrayLike) -> float | FloatArray:
    if np.ndim(like) == 0:
        return float(x)
    return x


def ecef(lon: ArrayLike, lat: ArrayLike) -> FloatArray:
    """Earth-centred Earth-fixed coordinates (metres) on the WGS-84 ellipsoid.

    The straight-line (chord) distance between two ECEF points is never longer
    than the geodesic between them on the ellipsoid's surface, which makes it
    an exact lower bound for pruning nearest-neighbour searches.

    Returns an array of shape ``(n, 3)``.
    """
    lo = np.radians(np.atleast_1d(_arr(lon)))
    la = np.radians(np.atleast_1d(_arr(lat)))
    sin_la = np.sin(la)
    n = _A / np.sqrt(1 - _E2 * sin_la * sin_la)
    cos_la = np.cos(la)
    return np.column_stack((n * cos_la * np.cos(lo), n * cos_la * np.sin(lo), n * (1 - _E2) * sin_la))


def inverse(lon1: ArrayLike, lat1: ArrayLike, lon2: ArrayLike, lat2: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Geodesic distance (m) and forward azimuth (degrees, 0–360) from 1 to 2."""
    az, _back, dist = GEOD.inv(
        np.broadcast_to(_arr(lon1), np.shape(lon2)) if np.ndim(lon1) == 0 else lon1,
        np.broadcast_to(_arr(lat1), np.shape(lat2)) if np.ndim(lat1) == 0 else lat1,
        lon2,
        lat2,
    )
    return np.asarray(dist, dtype=np.float64), np.mod(np.asarray(az, dtype=np.float64), 360.0)


def distance_m(lon1: ArrayLike, lat1: ArrayLike, lon2: ArrayLike, lat2: ArrayLike) -> float | FloatArray:
    """Geodesic distance in metres on the WGS-84 ellipsoid."""
    d, _ = inverse(lon1, lat1, lon2, lat2)
    return _ret(d, lon2)


def out_of_china(lon: ArrayLike, lat: ArrayLike) -> npt.NDArray[np.bool_]:
    """True where GCJ-02 applies no offset (the conventional rough box)."""
    lo, la = _arr(lon), _arr(lat)
    return (lo < 72.004) | (lo > 137.8347) | (la < 0.8293) | (la > 55.8271)


def _gcj_delta(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    x = lon - 105.0
    y = lat - 35.0
    sx = np.sqrt(np.abs(x))
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sx
    dlat += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlat += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * np.pi) + 320 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sx
    dlon += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlon += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    radlat = lat / 180.0 * np.pi
    magic = 1 - _GCJ_EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_GCJ_A * (1 - _GCJ_EE)) / (magic * sqrtmagic) * np.pi)
    dlon = (dlon * 180.0) / (_GCJ_A / sqrtmagic * np.cos(radlat) * np.pi)
    outside = out_of_china(lon, lat)
    return np.where(outside, 0.0, dlon), np.where(outside, 0.0, dlat)


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[float | FloatArray, float | FloatArray]:
    """WGS-84 to GCJ-02 (the published forward formula)."""
    lo, la = _arr(lon), _arr(lat)
    dlon, dlat = _gcj_delta(lo, la)
    return _ret(lo + dlon, lon), _ret(la + dlat, lat)


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[float | FloatArray, float | FloatArray]:
    """GCJ-02 to WGS-84 by fixed-point iteration of the forward formula.

    Converges to well under a millimetre in a handful of steps (the offset
    varies slowly), far below the 1 m the project needs.
    """
    glo, gla = _arr(lon), _arr(lat)
    wlo, wla = glo.copy(), gla.copy()
    for _ in range(30):
        dlon, dlat = _gcj_delta(wlo, wla)
        elon = wlo + dlon - glo
        elat = wla + dlat - gla
        wlo = wlo - elon
        wla = wla - elat
        if np.all(np.abs(elon) < 1e-10) and np.all(np.abs(elat) < 1e-10):
            break
    return _ret(wlo, lon), _ret(wla, lat)


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[float | FloatArray, float | FloatArray]:
    """GCJ-02 to BD-09 (Baidu's published formula)."""
    x, y = _arr(lon), _arr(lat)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _BD_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _BD_PI)
    return _ret(z * np.cos(theta) + 0.0065, lon), _ret(z * np.sin(theta) + 0.006, lat)


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[float | FloatArray, float | FloatArray]:
    """BD-09 to GCJ-02, refined by fixed-point iteration of the forward formula."""
    blo, bla = _arr(lon), _arr(lat)
    x, y = blo - 0.0065, bla - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _BD_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _BD_PI)
    glo, gla = z * np.cos(theta), z * np.sin(theta)
    for _ in range(10):
        flo, fla = gcj02_to_bd09(glo, gla)
        elon, elat = np.asarray(flo) - blo, np.asarray(fla) - bla
        glo, gla = glo - elon, gla - elat
        if np.all(np.abs(elon) < 1e-11) and np.all(np.abs(elat) < 1e-11):
            break
    return _ret(glo, lon), _ret(gla, lat)


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[float | FloatArray, float | FloatArray]:
    glo, gla = wgs84_to_gcj02(lon, lat)
    return gcj02_to_bd09(glo, gla)


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[float | FloatArray, float | FloatArray]:
    glo, gla = bd09_to_gcj02(lon, lat)
    return gcj02_to_wgs84(glo, gla)


def to_wgs84(lon: ArrayLike, lat: ArrayLike, crs: str) -> tuple[float | FloatArray, float | FloatArray]:
    """Convert from ``crs`` (``wgs84``, ``gcj02`` or ``bd09``) to WGS-84."""
    if crs == "wgs84":
        return _ret(_arr(lon), lon), _ret(_arr(lat), lat)
    if crs == "gcj02":
        return gcj02_to_wgs84(lon, lat)
    if crs == "bd09":
        return bd09_to_wgs84(lon, lat)
    raise ValueError(f"unknown crs {crs!r}; expected one of {', '.join(CRS_NAMES)}")


def from_wgs84(lon: ArrayLike, lat: ArrayLike, crs: str) -> tuple[float | FloatArray, float | FloatArray]:
    """Convert from WGS-84 to ``crs`` (``wgs84``, ``gcj02`` or ``bd09``)."""
    if crs == "wgs84":
        return _ret(_arr(lon), lon), _ret(_arr(lat), lat)
    if crs == "gcj02":
        return wgs84_to_gcj02(lon, lat)
    if crs == "bd09":
        return wgs84_to_bd09(lon, lat)
    raise ValueError(f"unknown crs {crs!r}; expected one of {', '.join(CRS_NAMES)}")
