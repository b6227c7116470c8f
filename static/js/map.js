/* The worker map: venues clustered by category, nearest search, venue card,
 * filters kept in the URL. An ES module (no build step); what other pages and
 * the server compute too (datums, tiles, nearest, search) is in common.js.
 * Data from outside (names, addresses, phones) only ever reaches the page
 * through textContent / setAttribute, never innerHTML. */
import * as C from './common.js';
import { initTextSize } from './textsize.js';

(function () {
  'use strict';
  var CFG = JSON.parse(document.getElementById('cfg').textContent);
  // Embed mode (/embed): filters, view and venue come from CFG.embed (validated by the
  // server), the frame's URL is left alone, and nothing takes focus on load.
  var EMBED = CFG.embed || null;
  var _ = C.translator(CFG.i18n);
  var el = C.el;
  function $(id) { return document.getElementById(id); }
  var toGcj = C.wgs84ToGcj02, toBd = C.wgs84ToBd09;

  // ---------------------------------------------------------------- formatting
  function fmtDistance(m) {
    if (m < 1000) return _('%(n)s 米', { n: Math.max(10, Math.round(m / 10) * 10) });
    return _('%(n)s 公里', { n: (m / 1000).toFixed(m < 10000 ? 1 : 0) });
  }
  var DAYS = { zh: { Mo: '周一', Tu: '周二', We: '周三', Th: '周四', Fr: '周五', Sa: '周六', Su: '周日', PH: '节假日' },
    en: { Mo: 'Mon', Tu: 'Tue', We: 'Wed', Th: 'Thu', Fr: 'Fri', Sa: 'Sat', Su: 'Sun', PH: 'public holidays' } };
  // OpenStreetMap opening_hours, made readable: "Mo-Fr 08:00-12:00" -> "周一至周五 08:00-12:00".
  function fmtHours(expr) {
    var d = DAYS[CFG.lang] || DAYS.zh, zh = CFG.lang !== 'en';
    if (expr.trim() === '24/7') return _('全天 24 小时');
    return expr.replace(/\b(Mo|Tu|We|Th|Fr|Sa|Su|PH)-(Mo|Tu|We|Th|Fr|Sa|Su)\b/g, function (m, a, b) { return d[a] + (zh ? '至' : '–') + d[b]; })
      .replace(/\b(Mo|Tu|We|Th|Fr|Sa|Su|PH)\b/g, function (m, a) { return d[a]; })
      .replace(/\boff\b/g, _('休息')).replace(/,/g, ', ').replace(/;\s*/g, zh ? '；' : '; ');
  }
  // walking up to 2 km, an e-bike beyond (C.travelTime, as locator/travel.py): never a multi-hour walk
  function fmtTravel(m) {
    var t = C.travelTime(m), walk = t.mode === 'walk';
    if (t.minutes <= 90) return _(walk ? '步行约 %(n)s 分钟' : '骑电动车约 %(n)s 分钟', { n: t.minutes });
    return _('骑电动车约 %(n)s 小时', { n: (t.minutes / 60).toFixed(1) });
  }

  // ---------------------------------------------------------------- state and URL
  var CAT_CODES = CFG.categoryOrder, AMEN_CODES = CFG.amenityOrder;
  // near: the category the nearest search looks for (URL `kind`); start: the start point as the URL
  // carries it (`near=三亚` or `near=<lat>,<lon>`), null for none.
  var state = { cat: [], amen: [], open: false, q: '', near: CFG.nearestDefault, venue: null, district: [], start: null };
  var LATLON = /^(-?\d{1,2}(?:\.\d+)?),(-?\d{1,3}(?:\.\d+)?)$/;
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
  function shareURL(v) {
    var p = new URLSearchParams();
    p.set('venue', v.id);
    if (CFG.lang === 'en') p.set('lang', 'en');
    return (EMBED ? CFG.urls.page : location.origin + location.pathname) + '?' + p.toString();
  }

  // ---------------------------------------------------------------- map
  var map = L.map('map', { zoomControl: true, minZoom: 5, maxZoom: CFG.tiles.maxZoom || 18 });
  map.attributionControl.setPrefix(false);
  // every layer goes through the tiles' datum shift (GCJ-02 on Amap tiles)
  var shift = C.addTiles(L, map, CFG.tiles, function () { $('map').classList.add('no-tiles'); });
  var disp = shift.toMap, undisp = shift.fromMap;
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
  var PLACES = [];
  fetch(CFG.urls.districts).then(function (r) { return r.json(); }).then(function (gj) {
    districtLayer.addData(gj);
    districtLayer.bringToBack();
    PLACES = gj.features.map(function (f) {
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
  var hitLayer = L.layerGroup().addTo(map);

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
  var DATA = null, VENUES = [], BY_ID = {};
  function openNow(v) {
    if (v.hours < 0) return null;
    var iv = DATA.hours[v.hours][1];
    var now = Date.now() / 60000, gen = DATA.generated / 60;
    if (!iv || now < gen - 5 || now > gen + 8 * 1440) return now > gen + 15 ? null : v.open;
    for (var i = 0; i < iv.length; i++) if (now >= iv[i][0] && now < iv[i][1]) return true;
    return false;
  }
  function load(data) {
    DATA = data;
    VENUES = data.venues.map(function (r) {
      var amen = [];
      data.amenities.forEach(function (a, i) { if (r[6] & (1 << i)) amen.push(a); });
      var d = r[9] >= 0 ? data.districts[r[9]] : null;
      var v = { id: r[0], lon: r[1], lat: r[2], cat: data.categories[r[3]], name: r[4], addr: r[5], amen: amen,
        hours: r[7], phone: r[8], district: d ? C.label(CFG.lang, d[1], d[2]) : '', adcode: d ? d[0] : '', open: r[10] == null ? null : !!r[10], town: r[11] === 1 };
      var m = L.marker(disp(v.lon, v.lat), { icon: ICONS[v.cat], title: v.name, keyboard: true, riseOnHover: true });
      m.on('click', function () { showCard(v, false); });
      v.marker = m;
      BY_ID[v.id] = v;
      return v;
    });
    apply();
    if (state.venue && BY_ID[state.venue]) focusVenue(BY_ID[state.venue], EMBED ? 'quiet' : true);
    if (!EMBED) startFromURL();
    document.body.setAttribute('data-venues', String(VENUES.length));
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
  var shown = [];
  function apply() {
    writeURL();
    var n = state.cat.length + state.amen.length + (state.open ? 1 : 0);
    $('filter-count').textContent = n ? '(' + n + ')' : '';
    if (!DATA) return;
    shown = VENUES.filter(matches);
    cluster.clearLayers();
    cluster.addLayers(shown.map(function (v) { return v.marker; }));
    $('count').textContent = _('地图上显示 %(n)s 个场所（共 %(t)s 个）', { n: shown.length, t: VENUES.length });
    renderList();
  }
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
  $('search-form').addEventListener('submit', function (e) { e.preventDefault(); search($('q').value.trim()); });
  $('q').addEventListener('search', function () { if (!$('q').value.trim()) search(''); });

  // ---------------------------------------------------------------- nearest and search list
  var origin = null; // {lon, lat, label}
  function setStatus(text, kind) {
    var s = $('status');
    s.textContent = text || '';
    s.className = 'status' + (kind ? ' ' + kind : '');
  }
  // Where a nearest search looks: what the map shows; but an embed limited to districts looks at all its
  // categories' venues, as the nearest station may lie across the border (outside() marks those).
  function nearPool() {
    return EMBED && state.district.length ? VENUES.filter(function (v) { return matches(v, true); }) : shown;
  }
  function outside(v) { return !!(EMBED && state.district.length && state.district.indexOf(v.adcode) < 0); }
  function nearest(k) {
    var hits = C.nearest(nearPool(), origin.lon, origin.lat, k, state.near === 'all' ? null : [state.near]);
    return hits.map(function (h) { h.item.d = h.d; return h.item; });
  }
  function openText(o) { return o === true ? _('正在开放') : o === false ? _('已关闭') : _('开放时间未知'); }
  function openClass(o) { return o === true ? 'open' : o === false ? 'closed' : 'unknown'; }
  function entry(v, extra) {
    var li = el('li');
    var b = el('button', 'entry');
    b.type = 'button';
    var top = el('span', 'entry-top');
    var dot = el('span', 'vm vm-' + v.cat, CFG.categories[v.cat][CFG.lang]);
    dot.setAttribute('aria-hidden', 'true');
    top.appendChild(dot);
    top.appendChild(el('span', 'entry-name', v.name));
    b.appendChild(top);
    var meta = el('span', 'entry-meta');
    if (extra) meta.appendChild(el('span', 'dist', extra));
    var o = openNow(v);
    meta.appendChild(el('span', 'badge ' + openClass(o), openText(o)));
    if (outside(v)) meta.appendChild(el('span', 'badge outside', _('本图范围以外 · %(d)s', { d: v.district })));
    b.appendChild(meta);
    b.appendChild(el('span', 'entry-sub', CFG.categories[v.cat].name + ' · ' + v.addr));
    b.addEventListener('click', function () { focusVenue(v); });
    li.appendChild(b);
    return li;
  }
  function renderList() {
    var box = $('results'), list = $('results-list'), note = $('results-note');
    list.textContent = '';
    note.hidden = true;
    hitLayer.clearLayers();
    if (origin) {
      var hits = nearest(5);
      box.hidden = false;
      $('results-title').textContent = origin.label;
      if (!hits.length) { note.hidden = false; note.textContent = _('没有符合筛选条件的场所。请减少筛选条件。'); return; }
      var notes = [];
      if (hits[0].d > 3000) notes.push(_('3 公里内没有符合条件的场所，下面是离这里最近的几个。'));
      // At night the nearest are often closed: lead with the nearest open one and say the closer ones are closed.
      var lead = openNow(hits[0]) === true ? null : nearestOpen();
      if (lead) {
        var closer = hits.filter(function (v) { return v.d < lead.d; }).length;
        hits = [lead].concat(hits.filter(function (v) { return v !== lead; })).slice(0, 5);
        notes.push(closer >= 5 ? _('更近的 %(n)s 个以上场所现在都已关闭。', { n: closer })
          : _('更近的 %(n)s 个场所现在已关闭。', { n: closer }));
      }
      if (hits.some(outside)) notes.push(_('已在所有市县中查找最近的场所：标有“本图范围以外”的不在本地图所示的市县内。'));
      if (notes.length) { note.hidden = false; note.textContent = notes.join(' '); }
      var bounds = [disp(origin.lon, origin.lat)];
      hits.forEach(function (v, i) {
        var li = entry(v, fmtDistance(v.d) + ' · ' + fmtTravel(v.d));
        if (v === lead) {
          li.classList.add('lead');
          var tag = el('span', 'lead-tag', _(state.near === 'outdoor_station' ? '最近的开放站点 · %(d)s' : '最近的开放场所 · %(d)s', { d: fmtDistance(v.d) }));
          li.insertBefore(tag, li.firstChild);
        }
        list.appendChild(li);
        var n = L.marker(disp(v.lon, v.lat), {
          icon: L.divIcon({ className: 'hit', html: String(i + 1), iconSize: [44, 44], iconAnchor: [22, 56] }),
          title: v.name, zIndexOffset: 1000
        });
        n.on('click', function () { showCard(v, false); });
        hitLayer.addLayer(n);
        bounds.push(disp(v.lon, v.lat));
      });
      L.circleMarker(disp(origin.lon, origin.lat), { radius: 9, color: '#fff', weight: 3, fillColor: '#2563eb', fillOpacity: 1 })
        .bindTooltip(_('起点')).addTo(hitLayer);
      if (origin.fit) { map.fitBounds(L.latLngBounds(bounds), { padding: [40, 40], maxZoom: 16 }); origin.fit = false; }
      return;
    }
    if (state.q) {
      box.hidden = false;
      var q = C.searchQuery(state.q);
      var places = PLACES.filter(function (p) { return C.matchesText(p.zh, p.en, q); }).slice(0, 3);
      $('results-title').textContent = _('“%(q)s”的搜索结果：%(n)s 个场所', { q: state.q, n: shown.length });
      places.forEach(function (p) {
        var li = el('li'), b = el('button', 'entry place');
        b.type = 'button';
        b.appendChild(el('span', 'entry-name', _('从 %(p)s 查找最近', { p: p.name })));
        b.addEventListener('click', function () { setOrigin(p.lon, p.lat, _('距 %(p)s 最近', { p: p.name }), p.zh); });
        li.appendChild(b);
        list.appendChild(li);
      });
      shown.slice(0, 20).forEach(function (v) { list.appendChild(entry(v, v.district)); });
      if (!shown.length && !places.length) { note.hidden = false; note.textContent = _('没有找到。请换个名称或地址试试。'); }
      return;
    }
    box.hidden = true;
  }
  // The nearest venue open now (among those shown, of the kind looked for), or null.
  function nearestOpen() {
    var open = nearPool().filter(function (v) { return openNow(v) === true; });
    var h = C.nearest(open, origin.lon, origin.lat, 1, state.near === 'all' ? null : [state.near]);
    if (!h.length) return null;
    h[0].item.d = h[0].d;
    return h[0].item;
  }
  // The one start point: `start` is what the URL carries (a place name, or "lat,lon" to 4 decimals, about 10 m).
  function setOrigin(lon, lat, label, start) {
    state.start = start || (lat.toFixed(4) + ',' + lon.toFixed(4));
    writeURL();
    origin = { lon: lon, lat: lat, label: label, fit: true };
    picking(false);
    setStatus('');
    // On a phone the map then stays at the top (sticky, map.css) so its numbered pins and the list are seen
    // together; the list scrolls up beneath it. The map's height changes: Leaflet is told before it fits the pins.
    if (!EMBED && !document.body.classList.contains('near-mode')) {
      document.body.classList.add('near-mode');
      map.invalidateSize();
    }
    renderList();
    var first = document.querySelector('#results-list button');
    if (first) $('results').scrollIntoView({ block: EMBED ? 'nearest' : 'start' });
  }
  function placeLabel(p) { return C.label(CFG.lang, p.name_zh, p.name_en || p.name_zh); }
  function placeOrigin(p, start) {
    state.q = '';
    $('q').value = start;
    apply();
    setOrigin(p.lon, p.lat, _('距 %(p)s 最近', { p: placeLabel(p) }), start);
  }
  // Places by name from the gazetteer (/api/v1/places); [] when offline or unknown.
  function findPlaces(text) {
    if (!text || text.length > 40) return Promise.resolve([]);
    return fetch(CFG.urls.places + '?' + new URLSearchParams({ q: text }).toString())
      .then(function (r) { return r.ok ? r.json() : { places: [] }; })
      .then(function (b) { return b.places || []; }, function () { return []; });
  }
  // The search box: a place name moves the start point, anything else filters by name, empty resets both.
  function search(text) {
    if (!text) { state.q = ''; state.start = null; origin = null; apply(); return; }
    findPlaces(text).then(function (places) {
      if (places.length) { placeOrigin(places[0], text); return; }
      state.q = text;
      state.start = null;
      origin = null;
      apply();
    });
  }
  // The start point the URL carries, once the venues are in.
  function startFromURL() {
    var s = state.start;
    if (!s) return;
    var m = LATLON.exec(s);
    if (m && Math.abs(+m[1]) <= 90 && Math.abs(+m[2]) <= 180) { setOrigin(+m[2], +m[1], _('离所选位置最近'), s); return; }
    findPlaces(s).then(function (places) {
      if (places.length) placeOrigin(places[0], s);
      else { state.start = null; writeURL(); setStatus(_('没有找到地点“%(p)s”。', { p: s }), 'error'); }
    });
  }
  var isPicking = false;
  function picking(on) {
    isPicking = on;
    $('map').classList.toggle('picking', on);
    $('pick-btn').setAttribute('aria-pressed', on ? 'true' : 'false');
  }
  map.on('click', function (e) {
    if (!isPicking) return;
    var w = undisp(e.latlng);
    setOrigin(w[0], w[1], _('离所选位置最近'));
  });
  $('pick-btn').addEventListener('click', function () {
    picking(!isPicking);
    if (isPicking) setStatus(_('请在地图上点一下您所在的位置。'), 'info');
  });
  $('near-btn').addEventListener('click', function () {
    if (!('geolocation' in navigator)) { geoFailed(null); return; }
    setStatus(_('正在获取您的位置……'), 'info');
    navigator.geolocation.getCurrentPosition(function (pos) {
      setOrigin(pos.coords.longitude, pos.coords.latitude, _('离您最近'));
    }, geoFailed, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
  });
  // False when the host page's Permissions-Policy (an <iframe> without allow="geolocation") forbids location:
  // then the visitor refused nothing. Browsers without the policy API are taken to allow it.
  function locationAllowed() {
    var pol = document.permissionsPolicy || document.featurePolicy;
    try { return !pol || pol.allowsFeature('geolocation'); } catch (e) { return true; }
  }
  function geoFailed(err) {
    var why = !err ? _('此浏览器不支持定位。')
      : err.code === 1 && !locationAllowed() ? _('嵌入本地图的网页不允许使用位置信息。')
      : err.code === 1 ? _('您没有允许本页使用位置信息。')
      : err.code === 3 ? _('定位超时。') : _('暂时无法确定您的位置。');
    setStatus(why + ' ' + _('请在地图上点一下您的位置，或在上方搜索地点或场所名称。'), 'error');
    picking(true);
  }

  // ---------------------------------------------------------------- venue card
  // Route links from the start point in each app's datum (Amap and Apple in China: GCJ-02; Baidu: BD-09;
  // Google: WGS-84); only a marker when there is no start point. Apple takes e-bike as cycling, Amap "ride".
  function navLinks(v) {
    var g = toGcj(v.lon, v.lat), b = toBd(v.lon, v.lat), o = origin;
    function q(x) { return Object.keys(x).map(function (k) { return k + '=' + encodeURIComponent(x[k]); }).join('&'); }
    function ll(p) { return p[1].toFixed(6) + ',' + p[0].toFixed(6); } // lat,lon
    function lonlat(p) { return p[0].toFixed(6) + ',' + p[1].toFixed(6); }
    var ride = o ? C.travelTime(v.d != null ? v.d : C.distance(o.lon, o.lat, v.lon, v.lat)).mode === 'ride' : false;
    if (o) {
      var og = toGcj(o.lon, o.lat), ob = toBd(o.lon, o.lat);
      $('nav-amap').href = 'https://uri.amap.com/navigation?' + q({ from: lonlat(og) + ',' + _('起点'), to: lonlat(g) + ',' + v.name, mode: ride ? 'ride' : 'walk', coordinate: 'gaode', callnative: 1, src: 'hainan-venue-locator' });
      $('nav-baidu').href = 'https://api.map.baidu.com/direction?' + q({ origin: 'latlng:' + ll(ob) + '|name:' + _('起点'), destination: 'latlng:' + ll(b) + '|name:' + v.name, mode: ride ? 'riding' : 'walking', region: '海南', coord_type: 'bd09ll', output: 'html', src: 'webapp.hainan-venue-locator' });
      $('nav-apple').href = 'https://maps.apple.com/?' + q({ saddr: ll(og), daddr: ll(g), dirflg: ride ? 'c' : 'w' });
      $('nav-google').href = 'https://www.google.com/maps/dir/?' + q({ api: 1, origin: ll([o.lon, o.lat]), destination: ll([v.lon, v.lat]), travelmode: ride ? 'bicycling' : 'walking' });
    } else {
      $('nav-amap').href = 'https://uri.amap.com/marker?' + q({ position: lonlat(g), name: v.name, coordinate: 'gaode', callnative: 1, src: 'hainan-venue-locator' });
      $('nav-baidu').href = 'https://api.map.baidu.com/marker?' + q({ location: ll(b), title: v.name, content: v.addr, coord_type: 'bd09ll', output: 'html', src: 'webapp.hainan-venue-locator' });
      $('nav-apple').href = 'https://maps.apple.com/?' + q({ ll: ll(g), q: v.name });
      $('nav-google').href = 'https://www.google.com/maps/search/?' + q({ api: 1, query: ll([v.lon, v.lat]) });
    }
    $('nav-note').textContent = o ? _('从起点出发的路线') : _('只标出场所位置（未设起点）');
  }
  function showCard(v, moveFocus) {
    state.venue = v.id;
    writeURL();
    var card = $('card');
    $('card-name').textContent = v.name;
    $('card-cat').textContent = CFG.categories[v.cat].name + (v.district ? ' · ' + v.district : '');
    $('card-addr').textContent = v.addr || _('地址未登记');
    $('card-town').hidden = !v.town;  // placed at its town's centre from its address: say so
    $('card-hours').textContent = _('开放时间：') + (v.hours >= 0 ? fmtHours(DATA.hours[v.hours][0]) : _('未登记'));
    var dist = $('card-dist');
    if (origin) {
      var d = C.distance(origin.lon, origin.lat, v.lon, v.lat);
      v.d = d;
      dist.textContent = _('距起点 %(d)s · %(t)s', { d: fmtDistance(d), t: fmtTravel(d) });
    }
    dist.hidden = !origin;
    $('card-report').href = CFG.urls.report.replace('__ID__', encodeURIComponent(v.id));
    var o = openNow(v);
    $('card-open').textContent = openText(o);
    $('card-open').className = 'badge ' + openClass(o);
    var ul = $('card-amen');
    ul.textContent = '';
    v.amen.forEach(function (a) {
      var li = el('li');
      var svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
      svg.setAttribute('class', 'ico');
      svg.setAttribute('aria-hidden', 'true');
      var use = document.createElementNS('http://www.w3.org/2000/svg', 'use');
      use.setAttribute('href', CFG.urls.icons + '#' + a);
      svg.appendChild(use);
      li.appendChild(svg);
      li.appendChild(document.createTextNode(CFG.amenities[a] || a));
      ul.appendChild(li);
    });
    if (!v.amen.length) ul.appendChild(el('li', null, _('未登记')));
    var tel = $('card-phone');
    $('card-phone-row').hidden = !v.phone;
    tel.textContent = v.phone;
    tel.href = 'tel:' + v.phone.replace(/[^0-9+]/g, '');
    navLinks(v);
    var url = shareURL(v);
    $('card-share').href = url;
    card.hidden = false;
    if (moveFocus === 'quiet') return; // an embed opening on a venue must not scroll the host page
    var sticky = document.body.classList.contains('near-mode');  // the map stays in view above the card
    if (moveFocus !== false) card.focus({ preventScroll: sticky });
    if (moveFocus === false || sticky) card.scrollIntoView({ block: sticky ? 'start' : 'nearest' });
  }
  var selLayer = L.layerGroup().addTo(map);
  function focusVenue(v, how) {
    showCard(v, how === undefined ? true : how);
    selLayer.clearLayers();
    L.circleMarker(disp(v.lon, v.lat), { radius: 22, color: '#2563eb', weight: 4, fill: false, interactive: false }).addTo(selLayer);
    if (cluster.hasLayer(v.marker)) {
      cluster.zoomToShowLayer(v.marker, function () { map.setView(v.marker.getLatLng(), Math.max(map.getZoom(), 16)); });
    } else {
      map.setView(disp(v.lon, v.lat), 16);
    }
  }
  $('card-close').addEventListener('click', function () {
    $('card').hidden = true;
    state.venue = null;
    writeURL();
  });
  $('card-copy').addEventListener('click', function () {
    var url = $('card-share').href;
    if (navigator.share) { navigator.share({ title: $('card-name').textContent, url: url }).catch(function () {}); return; }
    if (navigator.clipboard) navigator.clipboard.writeText(url).then(function () { setStatus(_('链接已复制。'), 'info'); }, function () {});
  });

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
    var when = DATA ? new Date(DATA.generated * 1000).toLocaleString(CFG.lang === 'en' ? 'en-GB' : 'zh-CN',
      { timeZone: 'Asia/Shanghai', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' }) : '';
    b.textContent = when ? _('离线 · 数据更新于 %(t)s', { t: when }) : _('离线');
  }
  window.addEventListener('online', function () { setStatus(''); offlineBanner(); });
  window.addEventListener('offline', function () { setStatus(_('网络已断开：正在使用上次加载的数据。'), 'info'); offlineBanner(); });
  if (!EMBED && 'serviceWorker' in navigator && location.protocol !== 'file:') {
    navigator.serviceWorker.register(CFG.urls.sw, { scope: '/' }).catch(function () {});
  }
})();
