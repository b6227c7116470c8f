"""Re-measuring chosen sites exactly, as the coverage table measures. Pure.

The siting model works on a demand grid; the numbers a planner reads (the
coverage after each site) are measured again here on the real geometry, so they
agree with :func:`locator.planning.analysis.analyse` rerun with the sites added.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence

import numpy as np
import shapely

from locator.districts import District
from locator.geo import GEOD
from locator.planning.grid import (
    QUAD_SEGS,
    NearestVenue,
    box_mask,
    build_frame,
    region_districts,
    split_pixels,
    transform,
)
from locator.planning.population import PopGrid
from locator.planning.validation import DEFAULT_CELL_M, Region
from locator.venues import Venue

__all__ = ["ExactMeasure"]


class ExactMeasure:
    """Re-measures coverage of chosen sites exactly, as the coverage table does.

    Area: per-district LAEA polygons, 128-gon buffers, unions (the district
    clipped to the bbox region if one is given). Population: pixel centres
    within the radius (geodesic) of a venue or a new site.
    """

    def __init__(
        self,
        districts: Sequence[District],
        venues: Sequence[Venue],
        r: float,
        region: Region,
        popgrid: PopGrid | None,
    ) -> None:
        chosen, box = region_districts(districts, region)
        self.r = r
        self.popgrid = popgrid
        vlon = np.array([v.lon for v in venues], dtype=float)
        vlat = np.array([v.lat for v in venues], dtype=float)
        if popgrid is None:
            self.frames = []
            self.covered = []
            for d in chosen:
                f = build_frame(d, DEFAULT_CELL_M)
                geom = f.geom_m
                if box is not None:
                    geom = shapely.intersection(geom, transform(f.to_m, shapely.box(*box).segmentize(0.01)))
                cov = shapely.Polygon()
                if len(vlon):
                    pts = shapely.points(*f.project(vlon, vlat))
                    near = shapely.dwithin(geom, pts, r)
                    if near.any():
                        cov = shapely.intersection(
                            shapely.union_all(shapely.buffer(pts[near], r, quad_segs=QUAD_SEGS)), geom
                        )
                self.frames.append((f, geom))
                self.covered.append(cov)
            self.total = sum(g.area for _, g in self.frames) / 1e6
            self.before = sum(c.area for c in self.covered) / 1e6
        else:
            taken = np.zeros(len(popgrid), dtype=bool)
            for sel in split_pixels(chosen, popgrid):
                taken[sel[box_mask(popgrid.lon[sel], popgrid.lat[sel], box)]] = True
            self.plon, self.plat, self.ppop = popgrid.lon[taken], popgrid.lat[taken], popgrid.population[taken]
            self.pcov = NearestVenue(vlon, vlat).distance(self.plon, self.plat, upper=r) <= r
            # pixels by longitude: a site's candidates are a strip found by bisection (cheaper
            # than a k-d tree over every pixel for the few sites a request adds)
            self.by_lon = np.argsort(self.plon, kind="stable")
            self.sorted_lon = self.plon[self.by_lon]
            self.total = float(self.ppop.sum())
            self.before = float(self.ppop[self.pcov].sum())

    def copy(self) -> ExactMeasure:
        """An independent measure in the same state (to measure another set of sites from here)."""
        other = copy.copy(self)
        if self.popgrid is None:
            other.covered = list(self.covered)
        else:
            other.pcov = self.pcov.copy()
        return other

    def add(self, lon: float, lat: float) -> float:
        """Add a site; returns its marginal gain (km² or people)."""
        if self.popgrid is None:
            gain = 0.0
            for k, (f, geom) in enumerate(self.frames):
                x, y = f.project(np.array([lon]), np.array([lat]))
                pt = shapely.Point(float(x[0]), float(y[0]))
                if geom.is_empty or not shapely.dwithin(geom, pt, self.r):
                    continue
                disc = shapely.intersection(shapely.buffer(pt, self.r, quad_segs=QUAD_SEGS), geom)
                new = shapely.union(self.covered[k], disc)
                gain += (new.area - self.covered[k].area) / 1e6
                self.covered[k] = new
            return gain
        if len(self.plon) == 0:
            return 0.0
        # a geodesic of length r moves at most r / M in latitude (M ≥ 6,335 km, the least
        # meridional radius of curvature) and, never reaching beyond that latitude, at most
        # r / (a cos φ) in longitude: every pixel within r lies in this box
        dlat = math.degrees(self.r / 6_335_000.0) * 1.01
        reach = min(89.0, abs(lat) + dlat)
        dlon = math.degrees(self.r / (6_335_000.0 * math.cos(math.radians(reach)))) * 1.01
        if lon - dlon < -180 or lon + dlon > 180:
            strip = np.arange(len(self.plon))
        else:
            lo = int(np.searchsorted(self.sorted_lon, lon - dlon, side="left"))
            hi = int(np.searchsorted(self.sorted_lon, lon + dlon, side="right"))
            strip = self.by_lon[lo:hi]
        idx = np.sort(strip[(np.abs(self.plat[strip] - lat) <= dlat) & ~self.pcov[strip]])
        if len(idx) == 0:
            return 0.0
        _, _, dist = GEOD.inv(np.full(len(idx), lon), np.full(len(idx), lat), self.plon[idx], self.plat[idx])
        idx = idx[dist <= self.r]
        self.pcov[idx] = True
        return float(self.ppop[idx].sum())
