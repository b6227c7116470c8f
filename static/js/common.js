/* What every page of the map computes the same way: translations, escaping,
 * the Chinese map datums, tile layers with their datum shift, distance,
 * nearest and text search. A native ES module (no build step).
 *
 * The server computes the same things in Python (locator/geo.py,
 * locator/search.py, locator/index.py); tests/vectors/shared.json holds the
 * cases both must answer alike (tests/test_vectors.py, tests/browser/test_vectors.py).
 *
 * Only `export function` / `export const` declarations and no imports: the
 * standalone folium map (locator/io/maps.py) inlines this file as a classic
 * script by dropping the `export` keywords. Nothing here touches the DOM or
 * Leaflet at load time. */

// ---------------------------------------------------------------- translations and escaping

/* A gettext over the page's catalogue (Chinese source -> this language):
 * _('%(n)s 米', {n: 5}). */
export function translator(catalogue) {
  var T = catalogue || {};
  return function (s, vars) {
    var t = T[s] || s;
    if (vars) t = t.replace(/%\((\w+)\)s/g, function (m, k) { return vars[k] === undefined ? '' : String(vars[k]); });
    return t;
  };
}

/* A (zh, en) pair in the page's language: the browser's locator.web.i18n.label. */
export function label(lang, zh, en) { return lang === 'en' ? en : zh; }

/* Text made safe for innerHTML (only where markup is built from constants). */
export function esc(s) {
  return String(s).replace(/[&<>"']/g, function (c) {
    return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c];
  });
}

/* An element whose text is set with textContent, never parsed. */
export function el(tag, cls, text) {
  var e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text != null) e.textContent = text;
  return e;
}

/* A popup or tooltip body: a bold title over lines of plain text (all textContent). */
export function textBox(title, lines) {
  var box = el('div', 'text-box');
  box.appendChild(el('strong', null, title));
  (lines || []).forEach(function (t) { if (t) box.appendChild(el('div', null, t)); });
  return box;
}

/* A venue's round category marker (the colour comes from the .vm-<category> CSS class). */
export function venueIcon(L, category, glyph, size) {
  var s = size || 30;
  return L.divIcon({ className: 'vm vm-' + category, html: esc(glyph), iconSize: [s, s] });
}

// ---------------------------------------------------------------- datums (as locator/geo.py)
var PI = Math.PI, GCJ_A = 6378245.0, GCJ_EE = 0.00669342162296594323, BD_PI = PI * 3000.0 / 180.0;

export function outOfChina(lon, lat) { return lon < 72.004 || lon > 137.8347 || lat < 0.8293 || lat > 55.8271; }

function gcjDelta(lon, lat) {
  if (outOfChina(lon, lat)) return [0, 0];
  var x = lon - 105.0, y = lat - 35.0, sx = Math.sqrt(Math.abs(x));
  var dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sx;
  dlat += (20.0 * Math.sin(6.0 * x * PI) + 20.0 * Math.sin(2.0 * x * PI)) * 2.0 / 3.0;
  dlat += (20.0 * Math.sin(y * PI) + 40.0 * Math.sin(y / 3.0 * PI)) * 2.0 / 3.0;
  dlat += (160.0 * Math.sin(y / 12.0 * PI) + 320 * Math.sin(y * PI / 30.0)) * 2.0 / 3.0;
  var dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sx;
  dlon += (20.0 * Math.sin(6.0 * x * PI) + 20.0 * Math.sin(2.0 * x * PI)) * 2.0 / 3.0;
  dlon += (20.0 * Math.sin(x * PI) + 40.0 * Math.sin(x / 3.0 * PI)) * 2.0 / 3.0;
  dlon += (150.0 * Math.sin(x / 12.0 * PI) + 300.0 * Math.sin(x / 30.0 * PI)) * 2.0 / 3.0;
  var rad = lat / 180.0 * PI, magic = 1 - GCJ_EE * Math.sin(rad) * Math.sin(rad), sm = Math.sqrt(magic);
  dlat = (dlat * 180.0) / ((GCJ_A * (1 - GCJ_EE)) / (magic * sm) * PI);
  dlon = (dlon * 180.0) / (GCJ_A / sm * Math.cos(rad) * PI);
  return [dlon, dlat];
}

/* WGS-84 -> GCJ-02, the published forward formula. [lon, lat] in and out. */
export function wgs84ToGcj02(lon, lat) { var d = gcjDelta(lon, lat); return [lon + d[0], lat + d[1]]; }

/* GCJ-02 -> WGS-84 by fixed-point iteration of the forward formula (as geo.gcj02_to_wgs84). */
export function gcj02ToWgs84(lon, lat) {
  var w = [lon, lat];
  for (var i = 0; i < 30; i++) {
    var d = gcjDelta(w[0], w[1]), elon = w[0] + d[0] - lon, elat = w[1] + d[1] - lat;
    w = [w[0] - elon, w[1] - elat];
    if (Math.abs(elon) < 1e-10 && Math.abs(elat) < 1e-10) break;
  }
  return w;
}

/* GCJ-02 -> BD-09, Baidu's published formula. */
export function gcj02ToBd09(lon, lat) {
  var z = Math.sqrt(lon * lon + lat * lat) + 0.00002 * Math.sin(lat * BD_PI);
  var th = Math.atan2(lat, lon) + 0.000003 * Math.cos(lon * BD_PI);
  return [z * Math.cos(th) + 0.0065, z * Math.sin(th) + 0.006];
}

/* BD-09 -> GCJ-02: the usual approximate inverse, refined by iteration (as geo.bd09_to_gcj02). */
export function bd09ToGcj02(lon, lat) {
  var x = lon - 0.0065, y = lat - 0.006;
  var z = Math.sqrt(x * x + y * y) - 0.00002 * Math.sin(y * BD_PI);
  var th = Math.atan2(y, x) - 0.000003 * Math.cos(x * BD_PI);
  var g = [z * Math.cos(th), z * Math.sin(th)];
  for (var i = 0; i < 10; i++) {
    var f = gcj02ToBd09(g[0], g[1]), elon = f[0] - lon, elat = f[1] - lat;
    g = [g[0] - elon, g[1] - elat];
    if (Math.abs(elon) < 1e-11 && Math.abs(elat) < 1e-11) break;
  }
  return g;
}

export function wgs84ToBd09(lon, lat) { var g = wgs84ToGcj02(lon, lat); return gcj02ToBd09(g[0], g[1]); }
export function bd09ToWgs84(lon, lat) { var g = bd09ToGcj02(lon, lat); return gcj02ToWgs84(g[0], g[1]); }

// ---------------------------------------------------------------- tiles and the datum shift

/* How WGS-84 data reach the screen over tiles drawn in `crs` ('wgs84' or 'gcj02').
 * Every layer of every page goes through one of these: toMap(lon, lat) -> L.LatLng,
 * fromMap(latlng) -> [lon, lat] (WGS-84), coordsToLatLng for L.geoJSON, and
 * latLng([lat, lon]) for Leaflet-style pairs such as bounds. */
export function displayShift(L, crs) {
  var shift = crs === 'gcj02';
  function toMap(lon, lat) {
    if (shift) { var g = wgs84ToGcj02(lon, lat); return L.latLng(g[1], g[0]); }
    return L.latLng(lat, lon);
  }
  return {
    shifted: shift,
    toMap: toMap,
    fromMap: function (ll) { return shift ? gcj02ToWgs84(ll.lng, ll.lat) : [ll.lng, ll.lat]; },
    coordsToLatLng: function (c) { return toMap(c[0], c[1]); },
    latLng: function (p) { return toMap(p[1], p[0]); },
    bounds: function (sw, ne) { return L.latLngBounds(toMap(sw[1], sw[0]), toMap(ne[1], ne[0])); }
  };
}

/* The page's base map (locator.tiles.TileProvider.to_json) added to `map`; `onFail`
 * runs once if there are no tiles or a tile fails. Returns the map's displayShift. */
export function addTiles(L, map, tiles, onFail) {
  var failed = false;
  function fail() { if (!failed) { failed = true; if (onFail) onFail(); } }
  var urls = (tiles && tiles.urls) || [];
  urls.forEach(function (url) {
    var layer = L.tileLayer(url, { subdomains: tiles.subdomains || 'abc', maxZoom: tiles.maxZoom, attribution: tiles.attribution });
    layer.on('tileerror', fail);
    layer.addTo(map);
  });
  if (!urls.length) fail();
  return displayShift(L, tiles && tiles.crs);
}

// ---------------------------------------------------------------- distance, nearest, search

/* Geodesic metres on the WGS-84 ellipsoid (Karney, geographiclib-geodesic from npm,
 * loaded by the page as window.geodesic): the same measure as the API's distance_m. */
export function distance(lon1, lat1, lon2, lat2) {
  var G = globalThis.geodesic.Geodesic;
  return G.WGS84.Inverse(lat1, lon1, lat2, lon2, G.DISTANCE).s12;
}

/* The k items ({id, lon, lat, cat}) nearest to (lon, lat), nearest first, ties by id,
 * each as {item, d} with d in metres: the browser's VenueIndex.nearest.
 * `categories`: a list to keep, or null/empty for all. */
export function nearest(items, lon, lat, k, categories) {
  var cats = categories && categories.length ? categories : null;
  var hits = [];
  items.forEach(function (v) {
    if (cats && cats.indexOf(v.cat) < 0) return;
    hits.push({ item: v, d: distance(lon, lat, v.lon, v.lat) });
  });
  hits.sort(function (a, b) { return a.d - b.d || (a.item.id < b.item.id ? -1 : a.item.id > b.item.id ? 1 : 0); });
  return hits.slice(0, k);
}

/* Case folding for search, close to Python's str.casefold (ß -> ss, final sigma -> σ). */
export function fold(s) { return String(s).toUpperCase().toLowerCase(); }

/* The search query as the server takes it (locator.params: stripped, folded); '' for none. */
export function searchQuery(text) { return fold(String(text || '').trim()); }

/* Whether a folded query is a substring of the name or of the address (each on its own):
 * locator.search.matches_text. */
export function matchesText(name, address, q) {
  return !q || fold(name || '').indexOf(q) >= 0 || fold(address || '').indexOf(q) >= 0;
}

// ---------------------------------------------------------------- travel time (as locator/travel.py)

/* Streets are about a quarter longer than the straight line. */
export const DETOUR = 1.25;
/* Walk up to this straight-line distance (metres); beyond it, ride an e-bike. */
export const WALK_MAX_M = 2000;
/* Speeds in metres per minute: walking 4.5 km/h, e-bike 15 km/h. */
export const WALK_M_PER_MIN = 75;
export const RIDE_M_PER_MIN = 250;

/* How long a straight-line distance takes: {mode: 'walk'|'ride', minutes} (whole minutes, at least 1).
 * Walking up to WALK_MAX_M, riding an e-bike beyond: never a multi-hour walk. */
export function travelTime(metres) {
  var walk = metres <= WALK_MAX_M;
  var speed = walk ? WALK_M_PER_MIN : RIDE_M_PER_MIN;
  return { mode: walk ? 'walk' : 'ride', minutes: Math.max(1, Math.round(metres * DETOUR / speed)) };
}
