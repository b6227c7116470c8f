/* The /coverage page: choropleth, gap areas, suggested sites, sortable table.
 * Data arrive in <script type="application/json"> blocks (CSP: script-src 'self');
 * gaps, suggestions and venues are fetched from the API. All state is in the
 * query string: changing a control submits the form, so the URL is shareable.
 * An ES module: tiles, the datum shift (GCJ-02 on Amap tiles), escaping and
 * translations come from common.js, as on the map page. */
import * as C from "./common.js";

(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("cov-cfg").textContent);
  var _ = C.translator(cfg.i18n);
  var T = {
    covered_pct: _("覆盖率（%）"),
    venues_per_10k: _("每万人场所数"),
    dist_median_m: _("到最近场所距离中位数（米）"),
    districts: _("市县区（分级设色）"),
    gaps: _("覆盖空白区"),
    suggestions: _("建议新增站点"),
    venues: _("现有场所"),
    noVenues: _("无场所"),
    noData: _("无数据"),
    loading: _("正在计算建议站点……"),
    loadFailed: _("图层加载失败："),
    site: _("建议站点 %(n)s"),
    gain: _("新增覆盖：%(v)s %(u)s"),
    after: _("覆盖：%(a)s → %(b)s %(u)s（%(p)s%）"),
    km2: _("平方公里"),
    people: _("人"),
    sitesDone: _("已计算 %(n)s 个建议站点。"),
    gapLegend: _("半径外的区域"),
    numberHint: _("请输入 50 到 20000 之间的数字。")
  };
  var en = cfg.lang === "en";
  var statusEl = document.getElementById("status");

  function fmt(s, vars) { return _(s, vars); }
  function num(v, digits) {
    return Number(v).toLocaleString(en ? "en" : "zh-CN", { maximumFractionDigits: digits, minimumFractionDigits: 0 });
  }
  var esc = C.esc;
  function status(text, kind) {
    statusEl.textContent = text || "";
    statusEl.className = "status" + (kind ? " " + kind : "");
  }

  /* -- controls ----------------------------------------------------------- */
  var form = document.getElementById("controls");
  var radius = document.getElementById("radius");
  var choice = document.getElementById("radius-choice");
  var nInput = document.getElementById("n");
  function submit() {
    if (!form.checkValidity()) { form.reportValidity(); return; }
    form.submit();
  }
  choice.addEventListener("change", function () {
    if (choice.value === "custom") { radius.focus(); return; }
    radius.value = choice.value;
    submit();
  });
  radius.addEventListener("input", function () {
    var v = Number(radius.value);
    radius.setCustomValidity(radius.value !== "" && v >= 50 && v <= 20000 ? "" : T.numberHint);
  });
  radius.addEventListener("change", function () {
    var opt = Array.prototype.some.call(choice.options, function (o) { return o.value === radius.value; });
    choice.value = opt ? radius.value : "custom";
    submit();
  });
  document.getElementById("measure").addEventListener("change", submit);
  document.getElementById("region").addEventListener("change", submit);
  nInput.addEventListener("change", submit);
  Array.prototype.forEach.call(form.querySelectorAll("input[name=category]"), function (box) {
    box.addEventListener("change", function () {
      if (!form.querySelector("input[name=category]:checked")) { box.checked = true; return; }
      submit();
    });
  });
  document.getElementById("print-btn").addEventListener("click", function () { window.print(); });

  /* -- sortable table ------------------------------------------------------ */
  var table = document.getElementById("table");
  var tbody = table.tBodies[0];
  function sortBy(th) {
    var col = Array.prototype.indexOf.call(th.parentNode.children, th);
    var asc = th.getAttribute("aria-sort") !== "ascending";
    var text = th.dataset.key === "name_zh";
    Array.prototype.forEach.call(th.parentNode.children, function (h) { h.setAttribute("aria-sort", "none"); });
    th.setAttribute("aria-sort", asc ? "ascending" : "descending");
    var rows = Array.prototype.slice.call(tbody.rows);
    rows.sort(function (a, b) {
      var x = a.cells[col], y = b.cells[col];
      var va = text ? x.dataset.name : x.dataset.v, vb = text ? y.dataset.name : y.dataset.v;
      if (!text) {
        // empty (no value) always last
        if (va === "" && vb === "") return 0;
        if (va === "") return 1;
        if (vb === "") return -1;
        return asc ? Number(va) - Number(vb) : Number(vb) - Number(va);
      }
      return asc ? va.localeCompare(vb, en ? "en" : "zh-CN") : vb.localeCompare(va, en ? "en" : "zh-CN");
    });
    rows.forEach(function (r) { tbody.appendChild(r); });
  }
  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) {
    th.querySelector("button").addEventListener("click", function () { sortBy(th); });
  });

  /* -- the map ------------------------------------------------------------- */
  if (typeof L === "undefined") return;
  var map = L.map("map", { zoomSnap: 0.25, preferCanvas: false });
  // every layer goes through the tiles' datum shift (GCJ-02 on Amap tiles), as on the map page
  var shift = C.addTiles(L, map, cfg.tiles, function () {
    if (!(cfg.tiles && cfg.tiles.urls && cfg.tiles.urls.length)) document.getElementById("map").classList.add("no-tiles");
  });
  function islandBounds() { return shift.bounds(cfg.bounds[0], cfg.bounds[1]); }
  map.fitBounds(islandBounds());
  // hatch pattern for the gap areas (inside Leaflet's SVG overlay)
  var svg = L.svg().addTo(map);
  var NS = "http://www.w3.org/2000/svg";
  var defs = document.createElementNS(NS, "defs");
  defs.innerHTML = '<pattern id="gap-hatch" patternUnits="userSpaceOnUse" width="8" height="8" patternTransform="rotate(45)">' +
    '<rect width="8" height="8" fill="#b91c1c" fill-opacity="0.06"></rect>' +
    '<line x1="0" y1="0" x2="0" y2="8" stroke="#b91c1c" stroke-width="1.5" stroke-opacity="0.55"></line></pattern>';
  svg._container.insertBefore(defs, svg._container.firstChild);

  var MEASURES = {
    // breaks (lower bounds of classes 2..5) and whether higher is better
    covered_pct: { breaks: [10, 25, 50, 75], good: "high", unit: "%" },
    venues_per_10k: { breaks: [0.25, 0.5, 1, 2], good: "high", unit: "" },
    dist_median_m: { breaks: [1000, 2000, 5000, 10000], good: "low", unit: "m" }
  };
  var PALETTE = ["#fff7ec", "#fdd49e", "#fc8d59", "#d7301f", "#7f0000"]; // light → dark = worse → better? set below
  var GOOD = ["#f7fcf5", "#c7e9c0", "#74c476", "#31a354", "#006d2c"];
  var m = MEASURES[cfg.measure] || MEASURES.covered_pct;
  var colours = m.good === "high" ? GOOD : PALETTE;
  function cls(v) {
    var i = 0;
    while (i < m.breaks.length && v >= m.breaks[i]) i++;
    return i;
  }
  function colour(v) { return v === null || v === undefined ? "#e5e7eb" : colours[cls(v)]; }

  var districts = L.geoJSON(cfg.districts, {
    renderer: svg,
    coordsToLatLng: shift.coordsToLatLng,
    style: function (f) {
      var r = cfg.rows[f.properties.adcode] || {};
      return {
        color: r.no_venues ? "#7f1d1d" : "#334155",
        weight: r.no_venues ? 2.5 : 1,
        dashArray: r.no_venues ? "6 4" : null,
        fillColor: colour(r[cfg.measure]),
        fillOpacity: 0.75
      };
    },
    onEachFeature: function (f, layer) {
      var r = cfg.rows[f.properties.adcode] || {};
      var name = C.label(cfg.lang, f.properties.name_zh, f.properties.name_en);
      var v = r[cfg.measure];
      layer.bindTooltip(C.textBox(name, [
        T[cfg.measure] + ": " + (v === null || v === undefined ? T.noData : num(v, 2)),
        T.venues + ": " + r.venues + (r.no_venues ? " (" + T.noVenues + ")" : "")
      ]), { sticky: true });
      layer.on("click", function () {
        var row = tbody.querySelector('tr[data-adcode="' + f.properties.adcode + '"]');
        if (row) { row.scrollIntoView({ block: "center" }); row.classList.add("hl"); setTimeout(function () { row.classList.remove("hl"); }, 1500); }
      });
    }
  }).addTo(map);

  var gaps = L.layerGroup().addTo(map);
  var sites = L.layerGroup().addTo(map);
  var venues = L.layerGroup();
  var overlays = {};
  overlays[T.districts] = districts;
  overlays[T.gaps] = gaps;
  overlays[T.suggestions] = sites;
  overlays[T.venues] = venues;
  L.control.layers(null, overlays, { collapsed: false }).addTo(map);

  // legend
  var legend = L.control({ position: "bottomright" });
  legend.onAdd = function () {
    var div = L.DomUtil.create("div", "legend");
    var h = "<strong>" + esc(T[cfg.measure]) + "</strong>";
    var b = m.breaks;
    for (var i = 0; i <= b.length; i++) {
      var lo = i === 0 ? null : b[i - 1], hi = i < b.length ? b[i] : null;
      var label = lo === null ? "< " + num(hi, 2) : hi === null ? "≥ " + num(lo, 2) : num(lo, 2) + "–" + num(hi, 2);
      h += '<div><i style="background:' + colours[i] + '"></i>' + esc(label) + "</div>";
    }
    h += '<div><i style="background:#e5e7eb"></i>' + esc(T.noData) + "</div>";
    h += '<div><i class="nv"></i>' + esc(T.noVenues) + "</div>";
    h += '<div><i class="gap"></i>' + esc(T.gapLegend) + "</div>";
    if (cfg.n) h += '<div><i class="site">1</i>' + esc(T.suggestions) + "</div>";
    div.innerHTML = h;
    return div;
  };
  legend.addTo(map);

  function getJSON(url) {
    return fetch(url, { headers: { Accept: "application/json" } }).then(function (r) {
      return r.json().then(function (body) {
        if (!r.ok) throw new Error(body.detail || r.statusText);
        return body;
      });
    });
  }

  getJSON(cfg.urls.gaps).then(function (fc) {
    fc.features = fc.features.filter(function (f) { return f.geometry; });
    L.geoJSON(fc, {
      renderer: svg,
      coordsToLatLng: shift.coordsToLatLng,
      interactive: false,
      style: { className: "gap-area", color: "#b91c1c", weight: 0.5, fillOpacity: 1 }
    }).addTo(gaps);
    districts.bringToBack();
  }).catch(function (e) { status(T.loadFailed + " " + e.message, "error"); });

  getJSON(cfg.urls.venues).then(function (fc) {
    L.geoJSON(fc, {
      renderer: svg,
      coordsToLatLng: shift.coordsToLatLng,
      pointToLayer: function (_f, ll) {
        return L.circleMarker(ll, { radius: 3, color: "#1e3a8a", weight: 1, fillColor: "#3b82f6", fillOpacity: 0.9 });
      },
      onEachFeature: function (f, layer) { layer.bindTooltip(C.textBox(f.properties.name)); }
    }).addTo(venues);
  }).catch(function () { /* the venue layer is optional */ });

  if (cfg.urls.suggestions) {
    status(T.loading, "info");
    getJSON(cfg.urls.suggestions).then(function (fc) {
      var list = document.getElementById("sites");
      var unit = fc.unit === "km2" ? T.km2 : T.people;
      fc.features.forEach(function (f) {
        var p = f.properties, c = f.geometry.coordinates;
        var icon = L.divIcon({ className: "site-icon", html: "<span>" + p.rank + "</span>", iconSize: [26, 26], iconAnchor: [13, 13] });
        var pct = p.covered_after_pct;
        // a planner reads the nearest town (GeoNames) and the district, not bare coordinates
        var name = p.place_name || C.label(cfg.lang, p.name_zh, p.name_en);
        var text = fmt(T.site, { n: p.rank }) + " · " + name + " · " + fmt(T.gain, { v: num(p.marginal_gain, 1), u: unit });
        L.marker(shift.toMap(c[0], c[1]), { icon: icon, title: text, keyboard: true })
          .bindPopup(C.textBox(fmt(T.site, { n: p.rank }), [
            name,
            c[1].toFixed(5) + ", " + c[0].toFixed(5),
            fmt(T.gain, { v: num(p.marginal_gain, 1), u: unit }),
            fmt(T.after, { a: num(p.covered_before, 0), b: num(p.covered_after, 0), u: unit, p: num(pct, 2) })
          ]))
          .addTo(sites);
        if (list) {
          var li = document.createElement("li");
          var a = document.createElement("a");
          a.href = "/?near=" + c[1].toFixed(6) + "," + c[0].toFixed(6);  // the site on the worker map
          a.textContent = name;
          li.appendChild(a);
          li.appendChild(document.createTextNode(" (" + c[0].toFixed(4) + ", " + c[1].toFixed(4) + ") +" +
            num(p.marginal_gain, 1) + " " + unit));
          list.appendChild(li);
        }
      });
      status(fmt(T.sitesDone, { n: fc.features.length }));
    }).catch(function (e) { status(T.loadFailed + " " + e.message, "error"); });
  }
  // the print layout gives the map another size: refit it to the island before and after printing
  function refit() { map.invalidateSize(false); map.fitBounds(islandBounds(), { animate: false }); }
  if (window.matchMedia) {
    var mq = window.matchMedia("print");
    if (mq.addEventListener) mq.addEventListener("change", refit);
  }
  window.addEventListener("beforeprint", refit);
  window.addEventListener("afterprint", refit);
  document.body.setAttribute("data-ready", "1");
})();
