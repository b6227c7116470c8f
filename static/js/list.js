/* The worker map's results list: the nearest venues from the start point (leading with the nearest open
 * one at night), or the search results, with numbered pins on the map. An ES module; `ctx` is the page's
 * shared state and functions (map.js). Text from outside reaches the page only through textContent. */
import * as C from './common.js';

export function initList(ctx) {
  var CFG = ctx.CFG, EMBED = ctx.EMBED, _ = ctx._, F = ctx.F, el = C.el, state = ctx.state;
  function $(id) { return document.getElementById(id); }

  // Where a nearest search looks: what the map shows; but an embed limited to districts looks at all its
  // categories' venues, as the nearest station may lie across the border (outside() marks those).
  function nearPool() {
    return EMBED && state.district.length ? ctx.venues.filter(function (v) { return ctx.matches(v, true); }) : ctx.shown;
  }
  function outside(v) { return !!(EMBED && state.district.length && state.district.indexOf(v.adcode) < 0); }
  function kinds() { return state.near === 'all' ? null : [state.near]; }
  function nearest(k) {
    var hits = C.nearest(nearPool(), ctx.origin.lon, ctx.origin.lat, k, kinds());
    return hits.map(function (h) { h.item.d = h.d; return h.item; });
  }
  // The nearest venue open now (among those shown, of the kind looked for), or null.
  function nearestOpen() {
    var open = nearPool().filter(function (v) { return ctx.openNow(v) === true; });
    var h = C.nearest(open, ctx.origin.lon, ctx.origin.lat, 1, kinds());
    if (!h.length) return null;
    h[0].item.d = h[0].d;
    return h[0].item;
  }
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
    var o = ctx.openNow(v);
    meta.appendChild(el('span', 'badge ' + F.openClass(o), F.openText(o)));
    if (v.reportedClosed) meta.appendChild(el('span', 'badge closed', _('有人反映已关闭')));
    if (outside(v)) meta.appendChild(el('span', 'badge outside', _('本图范围以外 · %(d)s', { d: v.district })));
    b.appendChild(meta);
    b.appendChild(el('span', 'entry-sub', CFG.categories[v.cat].name + ' · ' + v.addr));
    b.addEventListener('click', function () { ctx.focusVenue(v); });
    li.appendChild(b);
    return li;
  }
  function renderNearest(list, note) {
    var origin = ctx.origin, hits = nearest(5);
    $('results-title').textContent = origin.label;
    if (!hits.length) { note.hidden = false; note.textContent = _('没有符合筛选条件的场所。请减少筛选条件。'); return; }
    var notes = [];
    if (hits[0].d > 3000) notes.push(_('3 公里内没有符合条件的场所，下面是离这里最近的几个。'));
    // At night the nearest are often closed: lead with the nearest open one and say the closer ones are closed.
    var lead = ctx.openNow(hits[0]) === true ? null : nearestOpen();
    if (lead) {
      var closer = hits.filter(function (v) { return v.d < lead.d; }).length;
      hits = [lead].concat(hits.filter(function (v) { return v !== lead; })).slice(0, 5);
      notes.push(closer >= 5 ? _('更近的 %(n)s 个以上场所现在都已关闭。', { n: closer })
        : _('更近的 %(n)s 个场所现在已关闭。', { n: closer }));
    }
    if (hits.some(outside)) notes.push(_('已在所有市县中查找最近的场所：标有“本图范围以外”的不在本地图所示的市县内。'));
    if (notes.length) { note.hidden = false; note.textContent = notes.join(' '); }
    var bounds = [ctx.disp(origin.lon, origin.lat)];
    hits.forEach(function (v, i) {
      var li = entry(v, F.distance(v.d) + ' · ' + F.travel(v.d));
      if (v === lead) {
        li.classList.add('lead');
        var tag = el('span', 'lead-tag', _(state.near === 'outdoor_station' ? '最近的开放站点 · %(d)s' : '最近的开放场所 · %(d)s', { d: F.distance(v.d) }));
        li.insertBefore(tag, li.firstChild);
      }
      list.appendChild(li);
      var n = L.marker(ctx.disp(v.lon, v.lat), {
        icon: L.divIcon({ className: 'hit', html: String(i + 1), iconSize: [44, 44], iconAnchor: [22, 56] }),
        title: v.name, zIndexOffset: 1000
      });
      n.on('click', function () { ctx.showCard(v, false); });
      ctx.hitLayer.addLayer(n);
      bounds.push(ctx.disp(v.lon, v.lat));
    });
    L.circleMarker(ctx.disp(origin.lon, origin.lat), { radius: 9, color: '#fff', weight: 3, fillColor: '#2563eb', fillOpacity: 1 })
      .bindTooltip(_('起点')).addTo(ctx.hitLayer);
    if (origin.fit) { ctx.map.fitBounds(L.latLngBounds(bounds), { padding: [40, 40], maxZoom: 16 }); origin.fit = false; }
  }
  function renderSearch(list, note) {
    var q = C.searchQuery(state.q), shown = ctx.shown;
    var places = ctx.places.filter(function (p) { return C.matchesText(p.zh, p.en, q); }).slice(0, 3);
    $('results-title').textContent = _('“%(q)s”的搜索结果：%(n)s 个场所', { q: state.q, n: shown.length });
    places.forEach(function (p) {
      var li = el('li'), b = el('button', 'entry place');
      b.type = 'button';
      b.appendChild(el('span', 'entry-name', _('从 %(p)s 查找最近', { p: p.name })));
      b.addEventListener('click', function () { ctx.setOrigin(p.lon, p.lat, _('距 %(p)s 最近', { p: p.name }), p.zh); });
      li.appendChild(b);
      list.appendChild(li);
    });
    shown.slice(0, 20).forEach(function (v) { list.appendChild(entry(v, v.district)); });
    if (!shown.length && !places.length) { note.hidden = false; note.textContent = _('没有找到。请换个名称或地址试试。'); }
  }
  function renderList() {
    var box = $('results'), list = $('results-list'), note = $('results-note');
    list.textContent = '';
    note.hidden = true;
    ctx.hitLayer.clearLayers();
    box.hidden = !ctx.origin && !state.q;
    if (ctx.origin) renderNearest(list, note);
    else if (state.q) renderSearch(list, note);
  }
  ctx.renderList = renderList;
}
