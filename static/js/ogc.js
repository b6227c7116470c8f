/* The OGC API HTML pages' map (templates/ogc/items.html, item.html): the page's features on Leaflet.
 *
 * The features come as JSON in <script type="application/json" id="features">, in the CRS the page
 * was asked for (cfg.datum, cfg.latFirst); they are brought back to WGS-84 longitude-first and then
 * through the base map's datum shift (common.js addTiles). Popups are built from text nodes
 * (common.js el/textBox), so no property is ever parsed as HTML. */
import * as C from "./common.js";

function readJson(id) {
  var node = document.getElementById(id);
  return node ? JSON.parse(node.textContent) : null;
}

function toWgs84(cfg) {
  return function (c) {
    var lon = cfg.latFirst ? c[1] : c[0], lat = cfg.latFirst ? c[0] : c[1];
    if (cfg.datum === "gcj02") return C.gcj02ToWgs84(lon, lat);
    if (cfg.datum === "bd09") return C.bd09ToWgs84(lon, lat);
    return [lon, lat];
  };
}

function popup(feature, lang) {
  var p = feature.properties || {};
  var name = p.name || C.label(lang, p.name_zh, p.name_en || p.name_zh) || feature.id;
  var lines = [p.category_name, p.address, p.phone].filter(function (x) { return x; });
  return C.textBox(String(name), lines.map(String));
}

function start() {
  var cfg = readJson("cfg") || {};
  var data = readJson("features") || { features: [] };
  var L = window.L;
  var map = L.map("map", { preferCanvas: false });
  var shift = C.addTiles(L, map, cfg.tiles);
  var wgs = toWgs84(cfg);
  var layer = L.geoJSON(data, {
    coordsToLatLng: function (c) { var w = wgs(c); return shift.toMap(w[0], w[1]); },
    pointToLayer: function (feature, latlng) {
      return L.circleMarker(latlng, { radius: 6, weight: 2, color: "#b3261e", fillOpacity: 0.7 });
    },
    style: function () { return { weight: 1, color: "#1d4ed8", fillOpacity: 0.15 }; },
    onEachFeature: function (feature, lyr) { lyr.bindPopup(function () { return popup(feature, cfg.lang); }); }
  }).addTo(map);
  var bounds = layer.getBounds();
  if (bounds.isValid()) map.fitBounds(bounds, { maxZoom: 15, padding: [20, 20] });
  else map.fitBounds(L.latLngBounds(cfg.bounds));
  document.body.dataset.mapReady = String(data.features.length);
}

if (document.readyState === "complete") start(); else window.addEventListener("load", start);
