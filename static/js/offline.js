/* Honest offline for the pages other than the map (/coverage, /report/<id>):
 * the banner "离线 · 数据更新于 …" and the service worker that keeps the page.
 *
 * The banner's text is rendered by the server in the page's language, with the
 * time the page was built: a copy served from the cache says how old it is by
 * itself. This script only shows it when the browser is offline.
 *
 * One visit is enough: the page that installs the worker was loaded before the
 * worker ran, so it asks the worker to keep this page and the same-origin data
 * it loaded (each URL as the worker would have kept it; see static/sw.js). */
(function () {
  'use strict';
  var banner = document.getElementById('offline');
  if (!banner) return;

  function show() { banner.hidden = navigator.onLine !== false; }
  show();
  window.addEventListener('online', show);
  window.addEventListener('offline', show);

  var sw = banner.getAttribute('data-sw');
  if (!sw || !('serviceWorker' in navigator) || location.protocol === 'file:') return;
  navigator.serviceWorker.register(sw, { scope: '/' }).catch(function () {});

  function keep(urls) {
    navigator.serviceWorker.ready.then(function (reg) {
      if (reg.active) reg.active.postMessage({ type: 'keep', urls: urls });
    });
  }
  keep([location.href]);
  // data the page fetched (the coverage layers), now and as it arrives
  if ('PerformanceObserver' in window) {
    try {
      new PerformanceObserver(function (list) {
        var urls = list.getEntries().map(function (e) { return e.name; }).filter(function (u) {
          return u.indexOf(location.origin + '/') === 0;
        });
        if (urls.length) keep(urls);
      }).observe({ type: 'resource', buffered: true });
    } catch (e) { /* an old browser: the worker still keeps what it sees from the second visit on */ }
  }
})();
