/* The worker map's one start point: from the location, a tap on the map, a place searched by name, or the
 * URL (`near=三亚` or `near=<lat>,<lon>`), so that it can be shared and reloaded. An ES module; `ctx` is
 * the page's shared state and functions (map.js). */
import * as C from './common.js';

var LATLON = /^(-?\d{1,2}(?:\.\d+)?),(-?\d{1,3}(?:\.\d+)?)$/;

export function initStartPoint(ctx) {
  var CFG = ctx.CFG, EMBED = ctx.EMBED, _ = ctx._, state = ctx.state;
  function $(id) { return document.getElementById(id); }

  // The one start point: `start` is what the URL carries (a place name, or "lat,lon" to 4 decimals, about 10 m).
  function setOrigin(lon, lat, label, start) {
    state.start = start || (lat.toFixed(4) + ',' + lon.toFixed(4));
    ctx.writeURL();
    ctx.origin = { lon: lon, lat: lat, label: label, fit: true };
    picking(false);
    ctx.setStatus('');
    // On a phone the map then stays at the top (sticky, map.css) so its numbered pins and the list are seen
    // together; the list scrolls up beneath it. The map's height changes: Leaflet is told before it fits the pins.
    if (!EMBED && !document.body.classList.contains('near-mode')) {
      document.body.classList.add('near-mode');
      ctx.map.invalidateSize();
    }
    ctx.renderList();
    var first = document.querySelector('#results-list button');
    if (first) $('results').scrollIntoView({ block: EMBED ? 'nearest' : 'start' });
  }
  function placeLabel(p) { return C.label(CFG.lang, p.name_zh, p.name_en || p.name_zh); }
  function placeOrigin(p, start) {
    state.q = '';
    $('q').value = start;
    ctx.apply();
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
    if (!text) { state.q = ''; state.start = null; ctx.origin = null; ctx.apply(); return; }
    findPlaces(text).then(function (places) {
      if (places.length) { placeOrigin(places[0], text); return; }
      state.q = text;
      state.start = null;
      ctx.origin = null;
      ctx.apply();
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
      else { state.start = null; ctx.writeURL(); ctx.setStatus(_('没有找到地点“%(p)s”。', { p: s }), 'error'); }
    });
  }
  var isPicking = false;
  function picking(on) {
    isPicking = on;
    $('map').classList.toggle('picking', on);
    $('pick-btn').setAttribute('aria-pressed', on ? 'true' : 'false');
  }
  ctx.map.on('click', function (e) {
    if (!isPicking) return;
    var w = ctx.undisp(e.latlng);
    setOrigin(w[0], w[1], _('离所选位置最近'));
  });
  $('pick-btn').addEventListener('click', function () {
    picking(!isPicking);
    if (isPicking) ctx.setStatus(_('请在地图上点一下您所在的位置。'), 'info');
  });
  $('near-btn').addEventListener('click', function () {
    if (!('geolocation' in navigator)) { geoFailed(null); return; }
    ctx.setStatus(_('正在获取您的位置……'), 'info');
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
    ctx.setStatus(why + ' ' + _('请在地图上点一下您的位置，或在上方搜索地点或场所名称。'), 'error');
    picking(true);
  }
  ctx.setOrigin = setOrigin;
  ctx.search = search;
  ctx.startFromURL = startFromURL;
}
