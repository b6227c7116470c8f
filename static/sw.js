/* Service worker: keeps the app shell and the venue data so the last-loaded
 * map and the nearest search still work with no network.
 * Pages and data: network first, cache on success, cache when offline.
 * Static files: from the cache at once, refreshed in the background. Other hosts (map tiles) are not touched. */
'use strict';
var CACHE = 'locator-shell-__SHELL_VERSION__';  // filled in by the app: a hash of the shell's files
var SHELL = [
  '/',
  '/static/vendor/leaflet.js',
  '/static/vendor/leaflet.css',
  '/static/vendor/leaflet.markercluster.js',
  '/static/vendor/MarkerCluster.css',
  '/static/vendor/MarkerCluster.Default.css',
  '/static/vendor/geographiclib-geodesic.min.js',
  '/static/css/map.css?v=__SHELL_VERSION__',
  '/static/js/map.js?v=__SHELL_VERSION__',
  // imported by map.js (an ES module import carries no ?v=; the cache name changes instead)
  '/static/js/common.js',
  '/static/js/textsize.js',
  '/static/js/format.js',
  '/static/js/list.js',
  '/static/js/card.js',
  '/static/js/start-point.js',
  '/static/img/amenities.svg',
  '/static/img/icon.svg',
  '/static/img/icon-192.png',
  '/api/v1/map/venues',
  '/api/v1/map/districts'
];

self.addEventListener('install', function (event) {
  event.waitUntil(caches.open(CACHE).then(function (c) { return c.addAll(SHELL); }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener('activate', function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k !== CACHE; }).map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

function networkFirst(request, key, fallback) {
  return fetch(request).then(function (resp) {
    if (resp.ok) {
      var copy = resp.clone();
      caches.open(CACHE).then(function (c) { return c.put(key || request, copy); });
    }
    return resp;
  }).catch(function () {
    return caches.match(key || request, { ignoreSearch: !key }).then(function (hit) {
      return hit || (fallback ? caches.match(fallback) : null);
    }).then(function (hit) { return hit || Response.error(); });
  });
}

self.addEventListener('fetch', function (event) {
  var req = event.request;
  if (req.method !== 'GET') return;
  var url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  if (req.mode === 'navigate' && url.pathname === '/') {
    // the page in each language under its own key, so /?lang=en offline stays English
    var lang = url.searchParams.get('lang');
    event.respondWith(lang === 'en' || lang === 'zh' ? networkFirst(req, '/?lang=' + lang, '/') : networkFirst(req, '/'));
  } else if (url.pathname.indexOf('/api/v1/map/') === 0 || url.pathname === '/api/v1/venues') {
    event.respondWith(networkFirst(req));
  } else if (url.pathname.indexOf('/static/') === 0) {
    // stale-while-revalidate: answer from the cache at once, refresh it behind
    event.respondWith(caches.match(req).then(function (hit) {
      var fresh = networkFirst(req);
      if (hit) { event.waitUntil(fresh.catch(function () {})); return hit; }
      return fresh;
    }));
  }
});
