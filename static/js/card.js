/* The worker map's venue card: details, distance from the start point, route links in each app's datum,
 * freshness (最后确认 …, 有人反映已关闭) and the one-tap confirmations 开着 / 关着 / 设施有问题, which go
 * to the moderation queue (/confirm/<id>, locator/web/reports.py). An ES module; `ctx` is the page's shared
 * state and functions (map.js). Text from outside reaches the page only through textContent / setAttribute. */
import * as C from './common.js';

export function initCard(ctx) {
  var CFG = ctx.CFG, EMBED = ctx.EMBED, _ = ctx._, F = ctx.F, el = C.el, state = ctx.state;
  var toGcj = C.wgs84ToGcj02, toBd = C.wgs84ToBd09;
  function $(id) { return document.getElementById(id); }

  function shareURL(v) {
    var p = new URLSearchParams();
    p.set('venue', v.id);
    if (CFG.lang === 'en') p.set('lang', 'en');
    return (EMBED ? CFG.urls.page : location.origin + location.pathname) + '?' + p.toString();
  }
  // Route links from the start point in each app's datum (Amap and Apple in China: GCJ-02; Baidu: BD-09;
  // Google: WGS-84); only a marker when there is no start point. Apple takes e-bike as cycling, Amap "ride".
  function navLinks(v) {
    var g = toGcj(v.lon, v.lat), b = toBd(v.lon, v.lat), o = ctx.origin;
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
  function amenities(v) {
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
  }
  // 最后确认 2026-11-03 (or 尚无确认记录), and 有人反映已关闭 while several "closed" taps wait for review.
  function freshness(v) {
    var day = v.confirmed ? F.day(v.confirmed) : '';
    $('card-confirmed').textContent = day ? _('最后确认 %(d)s', { d: day }) : _('尚无确认记录');
    $('card-reported-closed').hidden = !v.reportedClosed;
    var s = $('confirm-status');
    if (s) { s.textContent = ''; s.className = 'status'; }
  }
  function showCard(v, moveFocus) {
    state.venue = v.id;
    ctx.writeURL();
    var card = $('card');
    $('card-name').textContent = v.name;
    $('card-cat').textContent = CFG.categories[v.cat].name + (v.district ? ' · ' + v.district : '');
    $('card-addr').textContent = v.addr || _('地址未登记');
    $('card-town').hidden = !v.town;  // placed at its town's centre from its address: say so
    $('card-hours').textContent = _('开放时间：') + (v.hours >= 0 ? F.hours(ctx.data.hours[v.hours][0]) : _('未登记'));
    var dist = $('card-dist'), origin = ctx.origin;
    if (origin) {
      var d = C.distance(origin.lon, origin.lat, v.lon, v.lat);
      v.d = d;
      dist.textContent = _('距起点 %(d)s · %(t)s', { d: F.distance(d), t: F.travel(d) });
    }
    dist.hidden = !origin;
    $('card-report').href = CFG.urls.report.replace('__ID__', encodeURIComponent(v.id));
    var o = ctx.openNow(v);
    $('card-open').textContent = F.openText(o);
    $('card-open').className = 'badge ' + F.openClass(o);
    amenities(v);
    freshness(v);
    var tel = $('card-phone');
    $('card-phone-row').hidden = !v.phone;
    tel.textContent = v.phone;
    tel.href = 'tel:' + v.phone.replace(/[^0-9+]/g, '');
    navLinks(v);
    $('card-share').href = shareURL(v);
    card.hidden = false;
    if (moveFocus === 'quiet') return; // an embed opening on a venue must not scroll the host page
    var sticky = document.body.classList.contains('near-mode');  // the map stays in view above the card
    if (moveFocus !== false) card.focus({ preventScroll: sticky });
    if (moveFocus === false || sticky) card.scrollIntoView({ block: sticky ? 'start' : 'nearest' });
  }
  var selLayer = L.layerGroup().addTo(ctx.map);
  function focusVenue(v, how) {
    showCard(v, how === undefined ? true : how);
    selLayer.clearLayers();
    L.circleMarker(ctx.disp(v.lon, v.lat), { radius: 22, color: '#2563eb', weight: 4, fill: false, interactive: false }).addTo(selLayer);
    try {
      if (ctx.cluster.hasLayer(v.marker)) {
        ctx.cluster.zoomToShowLayer(v.marker, function () { ctx.map.setView(v.marker.getLatLng(), Math.max(ctx.map.getZoom(), 16)); });
        return;
      }
    } catch (e) {
      // on load (?venue=) the clusters are still being built in chunks and have no bounds yet: just go there
    }
    ctx.map.setView(ctx.disp(v.lon, v.lat), 16);
  }
  $('card-close').addEventListener('click', function () {
    $('card').hidden = true;
    state.venue = null;
    ctx.writeURL();
  });
  $('card-copy').addEventListener('click', function () {
    var url = $('card-share').href;
    if (navigator.share) { navigator.share({ title: $('card-name').textContent, url: url }).catch(function () {}); return; }
    if (navigator.clipboard) navigator.clipboard.writeText(url).then(function () { ctx.setStatus(_('链接已复制。'), 'info'); }, function () {});
  });

  // ---------------------------------------------------------------- one-tap confirmations
  // The map page is cached and sets no cookie; the first tap fetches a CSRF token (and its session cookie).
  var token = null;
  function csrf() {
    if (token) return Promise.resolve(token);
    return fetch(CFG.urls.confirmToken, { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.json(); })
      .then(function (b) { token = b.csrf_token; return token; });
  }
  function say(text, kind) {
    var s = $('confirm-status');
    s.textContent = text;
    s.className = 'status ' + kind;
  }
  function confirmTap(kind) {
    var v = ctx.byId[state.venue];
    if (!v) return;
    say(_('正在提交……'), 'info');
    csrf().then(function (t) {
      return fetch(CFG.urls.confirm.replace('__ID__', encodeURIComponent(v.id)), {
        method: 'POST', credentials: 'same-origin',
        headers: { 'X-CSRFToken': t, Accept: 'application/json', 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ kind: kind }).toString()
      });
    }).then(function (r) {
      if (r.status === 429) { say(_('提交太频繁，请一小时后再试。'), 'error'); return; }
      if (r.status === 403) token = null;  // the session changed: fetch a fresh token next time
      if (!r.ok) throw new Error(String(r.status));
      return r.json().then(function (b) {
        if (b.reported_closed && !v.reportedClosed) { v.reportedClosed = true; $('card-reported-closed').hidden = false; }
        say(_('谢谢！已收到，管理员核实后更新。'), 'ok');
      });
    }).catch(function () { say(_('提交失败，请稍后再试。'), 'error'); });
  }
  document.querySelectorAll('#card [data-confirm]').forEach(function (b) {
    b.addEventListener('click', function () { confirmTap(b.getAttribute('data-confirm')); });
  });

  ctx.showCard = showCard;
  ctx.focusVenue = focusVenue;
}
