/* The embed builder (/embed/builder): the form's options become an /embed URL,
 * shown in the preview frame and written into the two snippets. An ES module. */
import { esc, translator } from './common.js';

(function () {
  'use strict';
  var CFG = JSON.parse(document.getElementById('builder-cfg').textContent);
  var _ = translator(CFG.i18n);
  function $(id) { return document.getElementById(id); }
  var form = $('opts'), frame = $('preview');
  var ORDER = ['category', 'district', 'lat', 'lon', 'zoom', 'lang', 'nearest', 'venue', 'tiles'];

  // The options in /embed's order, defaults left out (as locator.embed.EmbedOptions.query).
  function options() {
    var o = {};
    o.category = [].filter.call(form.querySelectorAll('input[name=category]'), function (b) { return b.checked; })
      .map(function (b) { return b.value; }).join(',');
    o.district = form.elements.district.value;
    ['lat', 'lon', 'zoom', 'venue'].forEach(function (k) { o[k] = form.elements[k].value.trim(); });
    var lang = form.querySelector('input[name=lang]:checked');
    o.lang = lang && lang.value === 'en' ? 'en' : '';
    o.nearest = form.elements.nearest.checked ? '1' : '';
    o.tiles = form.elements.tiles.value;
    var out = [];
    ORDER.forEach(function (k) { if (o[k]) out.push([k, o[k]]); });
    return out;
  }
  function query(opts) {
    return opts.map(function (kv) { return kv[0] + '=' + encodeURIComponent(kv[1]).replace(/%2C/g, ','); }).join('&');
  }
  function height() {
    var h = parseInt(form.elements.height.value, 10);
    return h >= 200 && h <= 2000 ? h : 450;
  }
  function title(opts) {
    var en = opts.some(function (kv) { return kv[0] === 'lang' && kv[1] === 'en'; });
    return en ? 'Map of Hainan worker service venues' : '海南职工服务阵地地图';
  }
  var timer = null, lastSrc = '';
  function update() {
    var opts = options(), qs = query(opts);
    var url = CFG.embed + (qs ? '?' + qs : '');
    var h = height();
    var attrs = opts.map(function (kv) { return ' data-' + kv[0] + '="' + esc(kv[1]) + '"'; }).join('');
    if (h !== 450) attrs += ' data-height="' + h + '"';
    $('code-script').value = '<script src="' + esc(CFG.script) + '"' + attrs + ' async></' + 'script>';
    $('code-iframe').value = '<iframe src="' + esc(url) + '" width="100%" height="' + h +
      '" style="border:0;max-width:100%" loading="lazy" allow="geolocation" title="' + esc(title(opts)) + '"></iframe>';
    $('code-link').textContent = url;
    $('oembed-link').href = CFG.oembed + '?url=' + encodeURIComponent(url) + '&format=json';
    var src = CFG.preview + (qs ? '?' + qs : '');
    if (src !== lastSrc) {
      lastSrc = src;
      clearTimeout(timer);
      timer = setTimeout(function () { frame.src = src; }, 350);
    }
  }
  form.addEventListener('input', update);
  form.addEventListener('change', update);
  form.addEventListener('submit', function (e) { e.preventDefault(); update(); });

  // the preview grows with its content, like a frame inserted by embed.js
  window.addEventListener('message', function (e) {
    if (e.origin !== location.origin || e.source !== frame.contentWindow || !e.data || e.data.type !== 'hainan-venues:resize') return;
    var h = Number(e.data.height);
    if (isFinite(h) && h >= 50 && h <= 10000) frame.style.height = Math.ceil(h) + 'px';
    e.source.postMessage({ type: 'hainan-venues:auto' }, location.origin);
  });

  function copied(ok) {
    var s = $('copy-status');
    s.textContent = ok ? _('已复制到剪贴板。') : _('无法自动复制，请选中代码后手动复制。');
    s.className = 'status ' + (ok ? 'info' : 'error');
  }
  [].forEach.call(document.querySelectorAll('button.copy'), function (b) {
    b.addEventListener('click', function () {
      var box = $(b.getAttribute('data-target'));
      box.focus();
      box.select();
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(box.value).then(function () { copied(true); }, function () { copied(document.execCommand('copy')); });
      } else {
        var ok = false;
        try { ok = document.execCommand('copy'); } catch (err) { ok = false; }
        copied(ok);
      }
    });
  });
  lastSrc = frame.getAttribute('src');
  update();
})();
