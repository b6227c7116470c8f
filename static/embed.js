/* Hainan worker service venues: the one-line embed.
 *   <script src="https://HOST/static/embed.js" data-category="outdoor_station" data-district="460106" async></script>
 * puts a map frame where the tag stands. Options (all optional): data-category,
 * data-district, data-lat, data-lon, data-zoom, data-lang, data-nearest, data-venue,
 * data-tiles (as /embed's parameters), data-height (first height in px, 450) and
 * data-title. The frame grows with its content: it posts its height, and only
 * messages from this script's origin and from one of its own frames are obeyed.
 * Several tags may sit on one page. No dependencies; nothing is added to window. */
(function () {
  'use strict';
  var TYPE = 'hainan-venues:resize', AUTO = 'hainan-venues:auto';
  var PARAMS = ['category', 'district', 'lat', 'lon', 'zoom', 'lang', 'nearest', 'venue', 'tiles'];
  var frames = [];
  var mine = document.currentScript;
  if (!mine || !mine.src) return;
  var src = new URL(mine.src, location.href);
  var ORIGIN = src.origin, BASE = src.href.replace(/\/static\/embed\.js(?:[?#].*)?$/, '');

  function frameFor(tag) {
    var q = new URLSearchParams();
    PARAMS.forEach(function (k) {
      var v = tag.getAttribute('data-' + k);
      if (v != null && v !== '') q.set(k, v);
    });
    var f = document.createElement('iframe');
    var qs = q.toString();
    f.src = BASE + '/embed' + (qs ? '?' + qs : '');
    f.title = tag.getAttribute('data-title') || (q.get('lang') === 'en' ? 'Map of Hainan worker service venues' : '海南职工服务阵地地图');
    f.setAttribute('loading', 'lazy');
    f.setAttribute('allow', 'geolocation; clipboard-write');
    f.setAttribute('referrerpolicy', 'strict-origin-when-cross-origin');
    var h = parseInt(tag.getAttribute('data-height') || '450', 10);
    f.style.cssText = 'display:block;width:100%;max-width:100%;border:0;height:' + (h > 0 && h < 5000 ? h : 450) + 'px';
    return f;
  }

  function place(tag) {
    if (tag.hasAttribute('data-hv-embedded')) return;
    tag.setAttribute('data-hv-embedded', '');
    var f = frameFor(tag);
    frames.push(f);
    var parent = tag.parentNode;
    if (parent && parent !== document.head && parent !== document.documentElement) {
      parent.insertBefore(f, tag.nextSibling);
    } else {
      var put = function () { document.body.appendChild(f); };
      if (document.body) put(); else document.addEventListener('DOMContentLoaded', put);
    }
  }

  window.addEventListener('message', function (e) {
    if (e.origin !== ORIGIN || !e.data || e.data.type !== TYPE) return;
    for (var i = 0; i < frames.length; i++) {
      if (frames[i].contentWindow === e.source) {
        var h = Number(e.data.height);
        if (isFinite(h) && h >= 50 && h <= 10000) frames[i].style.height = Math.ceil(h) + 'px';
        e.source.postMessage({ type: AUTO }, ORIGIN); // from now on the frame's height follows its content
        return;
      }
    }
  });

  // this tag, and any other tag of this script still waiting (a browser may run a cached script once)
  place(mine);
  var tags = document.querySelectorAll('script[src]');
  for (var i = 0; i < tags.length; i++) {
    if (tags[i] !== mine && tags[i].src === mine.src) place(tags[i]);
  }
})();
