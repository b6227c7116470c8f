/* The worker map: venues clustered by category, filters kept in the URL, the data and the offline banner.
 * An ES module (no build step) that wires the others through one shared `ctx`: the results list (list.js),
 * the venue card and its confirmations (card.js), the start point (start-point.js), and formatting
 * (format.js). What other pages and the server compute too (datums, tiles, nearest, search) is in common.js.
 * Data from outside (names, addresses, phones) only ever reaches the page through textContent /
 * setAttribute, never innerHTML. */
import * as C from './common.js';
import { initTextSize } from './textsize.js';
import { formatters } from './format.js';
import { initList } from './list.js';
import { initCard } from './card.js';
import { initStartPoint } from './start-point.js';

(function () {
  'use strict';
  var CFG = JSON.parse(document.getElementById('cfg').textContent);
  // Embed mode (/embed): filters, view and venue come from CFG.embed (validated by the
  // server), the frame's URL is left alone, and nothing takes focus on load.
  var EMBED = CFG.embed || null;
  var _ = C.translator(CFG.i18n);
  var el = C.el;
  function $(id) { return document.getElementById(id); }

  // ---------------------------------------------------------------- state and URL
  var CAT_CODES = CFG.categoryOrder, AMEN_CODES = CFG.amenityOrder;
  // near: the category the nearest search looks for (URL `kind`); start: the start point as the URL
  // carries it (`near=三亚` or `near=<lat>,<lon>`), null for none.
  var state = { cat: [], amen: [], open: false, q: '', near: CFG.nearestDefault, venue: null, district: [], start: null };
  // What the modules share: set up here, each module adds its functions (renderList, showCard, setOrigin…).
  var ctx = { CFG: CFG, EMBED: EMBED, _: _, F: formatters(_, CFG.lang), state: state,
    data: null, venues: [], byId: {}, shown: [], places: [], origin: null };
  function readURL() {
    if (EMBED) {
      state.cat = EMBED.category || [];
      state.district = EMBED.district || [];
      state.venue = EMBED.venue || null;
      return;
    }
    var p = new URLSearchParams(location.search);
    function list(k, allowed) {
      return (p.get(k) || '').split(',').filter(function (c) { return allowed.indexOf(c) >= 0; });
    }
    state.cat = list('cat', CAT_CODES);
    state.amen = list('amen', AMEN_CODES);
    state.open = p.get('open') === '1';
    state.q = (p.get('q') || '').slice(0, 100);
    var kind = p.get('kind'), near = (p.get('near') || '').trim().slice(0, 40);
    if (near === 'all' || CAT_CODES.indexOf(near) >= 0) { kind = kind || near; near = ''; } // the old meaning of near=
    state.near = kind === 'all' || CAT_CODES.indexOf(kind) >= 0 ? kind : CFG.nearestDefault;
    state.start = near || null;
    state.venue = p.get('venue');
  }
  function writeURL() {
    if (EMBED) return;
    var p = new URLSearchParams(location.search);
    function put(k, v) { if (v) p.set(k, v); else p.delete(k); }
    put('cat', state.cat.join(','));
    put('amen', state.amen.join(','));
    put('open', state.open ? '1' : '');
    put('q', state.q);
    put('kind', state.near === CFG.nearestDefault ? '' : state.near);
    put('near', state.start || '');
    put('venue', state.venue || '');
    var qs = p.toString();
    history.replaceState(null, '', location.pathname + (qs ? '?' + qs : ''));
  }
  ctx.writeURL = writeURL;
  function setStatus(text, kind) {
    var s = $('status');
    s.textContent = text || '';
    s.className = 'status' + (kind ? ' ' + kind : '');
  }
  ctx.setStatus = setStatus;

  // ---------------------------------------------------------------- map
  var map = L.map('map', { zoomControl: true, minZoom: 5, maxZoom: CFG.tiles.maxZoom || 18 });
  map.attributionControl.setPrefix(false);
  // every layer goes through the tiles' datum shift (GCJ-02 on Amap tiles)
  var shift = C.addTiles(L, map, CFG.tiles, function () { $('map').classList.add('no-tiles'); });
  var disp = shift.toMap;
  ctx.map = map;
  ctx.disp = disp;
  ctx.undisp = shift.fromMap;
  var island = L.latLngBounds(CFG.bounds.map(shift.latLng));
  // the whole island, allowing a sliver of coast to be cropped rather than dropping a zoom level
  map.setView(island.getCenter(), map.getBoundsZoom(island, false, L.point(-60, -60)));
  if (EMBED && EMBED.center) {
    map.setView(disp(EMBED.center[1], EMBED.center[0]), EMBED.zoom || 14);
  } else if (EMBED && EMBED.bounds) {
    map.fitBounds(shift.bounds(EMBED.bounds[0], EMBED.bounds[1]));
    if (EMBED.zoom) map.setZoom(EMBED.zoom);
  } else if (EMBED && EMBED.zoom) {
    map.setZoom(EMBED.zoom);
  }
  var districtLayer = L.geoJSON(null, {
    interactive: false,
    style: { color: '#475569', weight: 1.2, fillColor: '#f1f5f9', fillOpacity: 0.5 },
    coordsToLatLng: shift.coordsToLatLng
  }).addTo(map);
  fetch(CFG.urls.districts).then(function (r) { return r.json(); }).then(function (gj) {
    districtLayer.addData(gj);
    districtLayer.bringToBack();
    ctx.places = gj.features.map(function (f) {
      return { name: C.label(CFG.lang, f.properties.name_zh, f.properties.name_en), zh: f.properties.name_zh,
        en: f.properties.name_en, lon: f.properties.label[0], lat: f.properties.label[1] };
    });
  }).catch(function () { /* outlines are a nicety; the venues still draw */ });

  // Marks the page once the first clusters are on screen (tests and bench/map_load.py read it).
  function drawn(done, total) {
    if (done !== total || !total || document.body.hasAttribute('data-drawn-ms')) return;
    var tries = 0;
    (function check() {
      if (document.querySelector('#map .leaflet-marker-icon') || ++tries > 300) {
        document.body.setAttribute('data-drawn-ms', String(Math.round(performance.now())));
      } else {
        requestAnimationFrame(check);
      }
    })();
  }
  var ICONS = {};
  // Every marker is a 44 px tap target around its 30 px disc; clusters likewise (44 px, the default look).
  CAT_CODES.forEach(function (c) {
    ICONS[c] = L.divIcon({ className: 'vm-tap', iconSize: [44, 44],
      html: '<span class="vm vm-' + c + '">' + C.esc(CFG.categories[c][CFG.lang]) + '</span>' });
  });
  function clusterIcon(c) {
    var n = c.getChildCount(), size = n < 10 ? 'small' : n < 100 ? 'medium' : 'large';
    return L.divIcon({ html: '<div><span>' + n + '</span></div>', className: 'marker-cluster marker-cluster-' + size + ' tap', iconSize: L.point(44, 44) });
  }
  var cluster = L.markerClusterGroup({ iconCreateFunction: clusterIcon, chunkedLoading: true, chunkProgress: drawn, showCoverageOnHover: false, maxClusterRadius: 45, spiderfyDistanceMultiplier: 1.6 });
  map.addLayer(cluster);
  ctx.cluster = cluster;
  ctx.hitLayer = L.layerGroup().addTo(map);

  // legend control (desktop; on phones the filter list doubles as the legend)
  var Legend = L.Control.extend({
    onAdd: function () {
      var box = el('div', 'legend leaflet-bar');
      box.setAttribute('aria-label', _('图例'));
      box.appendChild(el('strong', null, _('图例')));
      (EMBED && EMBED.category.length ? EMBED.category : CAT_CODES).forEach(function (c) {
        var row = el('div', 'legend-row');
        var dot = el('span', 'vm vm-' + c, CFG.categories[c][CFG.lang]);
        dot.setAttribute('aria-hidden', 'true');
        row.appendChild(dot);
        row.appendChild(el('span', null, CFG.categories[c].name));
        box.appendChild(row);
      });
      return box;
    }
  });
  new Legend({ position: 'bottomright' }).addTo(map);

  // ---------------------------------------------------------------- data
  function openNow(v) {
    if (v.hours < 0) return null;
    var DATA = ctx.data, iv = DATA.hours[v.hours][1];
    var now = Date.now() / 60000, gen = DATA.generated / 60;
    if (!iv || now < gen - 5 || now > gen + 8 * 1440) return now > gen + 15 ? null : v.open;
    for (var i = 0; i < iv.length; i++) if (now >= iv[i][0] && now < iv[i][1]) return true;
    return false;
  }
  ctx.openNow = openNow;
  // One row of /api/v1/map/venues (locator/web/mapdata.py: compact_layer) as a venue.
  function load(data) {
    ctx.data = data;
    ctx.venues = data.venues.map(function (r) {
      var amen = [];
      data.amenities.forEach(function (a, i) { if (r[6] & (1 << i)) amen.push(a); });
      var d = r[9] >= 0 ? data.districts[r[9]] : null;
      var v = { id: r[0], lon: r[1], lat: r[2], cat: data.categories[r[3]], name: r[4], addr: r[5], amen: amen,
        hours: r[7], phone: r[8], district: d ? C.label(CFG.lang, d[1], d[2]) : '', adcode: d ? d[0] : '',
        open: r[10] == null ? null : !!r[10], town: r[11] === 1, confirmed: r[12] || null, reportedClosed: r[13] === 1 };
      var m = L.marker(disp(v.lon, v.lat), { icon: ICONS[v.cat], title: v.name, keyboard: true, riseOnHover: true });
      m.on('click', function () { ctx.showCard(v, false); });
      v.marker = m;
      ctx.byId[v.id] = v;
      return v;
    });
    apply();
    if (state.venue && ctx.byId[state.venue]) ctx.focusVenue(ctx.byId[state.venue], EMBED ? 'quiet' : true);
    if (!EMBED) ctx.startFromURL();
    document.body.setAttribute('data-venues', String(ctx.venues.length));
    offlineBanner();
  }

  // ---------------------------------------------------------------- filters
  function matches(v, anyDistrict) {
    if (state.cat.length && state.cat.indexOf(v.cat) < 0) return false;
    if (!anyDistrict && state.district.length && state.district.indexOf(v.adcode) < 0) return false;
    for (var i = 0; i < state.amen.length; i++) if (v.amen.indexOf(state.amen[i]) < 0) return false;
    if (state.open && openNow(v) !== true) return false;
    if (state.q && !C.matchesText(v.name, v.addr, C.searchQuery(state.q))) return false;
    return true;
  }
  ctx.matches = matches;
  function apply() {
    writeURL();
    var n = state.cat.length + state.amen.length + (state.open ? 1 : 0);
    $('filter-count').textContent = n ? '(' + n + ')' : '';
    if (!ctx.data) return;
    ctx.shown = ctx.venues.filter(function (v) { return matches(v); });
    cluster.clearLayers();
    cluster.addLayers(ctx.shown.map(function (v) { return v.marker; }));
    $('count').textContent = _('地图上显示 %(n)s 个场所（共 %(t)s 个）', { n: ctx.shown.length, t: ctx.venues.length });
    ctx.renderList();
  }
  ctx.apply = apply;
  function syncForm() {
    document.querySelectorAll('input[name=cat]').forEach(function (b) { b.checked = state.cat.indexOf(b.value) >= 0; });
    document.querySelectorAll('input[name=amen]').forEach(function (b) { b.checked = state.amen.indexOf(b.value) >= 0; });
    $('open-now').checked = state.open;
    $('q').value = state.q;
    $('near-cat').value = state.near;
    if (state.cat.length || state.amen.length || state.open) $('filters').open = true;
  }
  function readForm() {
    state.cat = [].filter.call(document.querySelectorAll('input[name=cat]'), function (b) { return b.checked; }).map(function (b) { return b.value; });
    state.amen = [].filter.call(document.querySelectorAll('input[name=amen]'), function (b) { return b.checked; }).map(function (b) { return b.value; });
    state.open = $('open-now').checked;
  }
  $('filters').addEventListener('change', function () { readForm(); apply(); });
  $('clear-filters').addEventListener('click', function () { state.cat = []; state.amen = []; state.open = false; syncForm(); apply(); });
  $('near-cat').addEventListener('change', function () { state.near = $('near-cat').value; apply(); });
  $('search-form').addEventListener('submit', function (e) { e.preventDefault(); ctx.search($('q').value.trim()); });
  $('q').addEventListener('search', function () { if (!$('q').value.trim()) ctx.search(''); });

  initList(ctx);
  initCard(ctx);
  initStartPoint(ctx);

  // ---------------------------------------------------------------- start
  initTextSize($('text-size'));  // the map page only: an embed has no toggle and keeps its host's sizes
  readURL();
  syncForm();
  writeURL();
  fetch(CFG.urls.venues).then(function (r) {
    if (!r.ok) throw new Error(String(r.status));
    return r.json();
  }).then(load).catch(function () {
    setStatus(_('场所数据加载失败。请检查网络后刷新页面。'), 'error');
  });
  // Honest offline: a banner saying so and how old the data shown is (the time the server built the layer).
  function offlineBanner() {
    var b = $('offline');
    if (!b) return;
    b.hidden = navigator.onLine !== false;
    if (b.hidden) return;
    var when = ctx.data ? new Date(ctx.data.generated * 1000).toLocaleString(CFG.lang === 'en' ? 'en-GB' : 'zh-CN',
      { timeZone: 'Asia/Shanghai', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' }) : '';
    b.textContent = when ? _('离线 · 数据更新于 %(t)s', { t: when }) : _('离线');
  }
  window.addEventListener('online', function () { setStatus(''); offlineBanner(); });
  window.addEventListener('offline', function () { setStatus(_('网络已断开：正在使用上次加载的数据。'), 'info'); offlineBanner(); });
  if (!EMBED && 'serviceWorker' in navigator && location.protocol !== 'file:') {
    navigator.serviceWorker.register(CFG.urls.sw, { scope: '/' }).catch(function () {});
  }
})();
