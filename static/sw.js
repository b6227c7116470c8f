/* Service worker: keeps the app shell and the venue data so the last-loaded
 * map and the nearest search still work with no network.
 * Pages and data: network first, cache on success, cache when offline.
 * Static files: from the cache at once, refreshed in the background. Other hosts (map tiles) are not touched.
 * /coverage and /report/<id> are kept under their full URL (each language and query its own copy), so they
 * reload offline with their "离线 · 数据更新于 …" banner (static/js/offline.js); a page visited only once
 * asks the worker to keep it and the data it loaded (the 'keep' message), since the worker was not yet
 * running when it loaded. Posts are never touched: a report written offline waits in the page
 * (static/js/report.js), not here. */
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
  '/static/js/offline.js',  // the other pages' offline banner, and the report form's queue
  '/static/js/report.js',
  '/static/js/coverage.js',
  '/static/css/coverage.css',
  '/static/admin/admin.css',
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

// Pages kept under their full URL: the planners' coverage page and the public report form.
function isPage(url) {
  return url.pathname === '/coverage' || /^\/report\/[^/]+$/.test(url.pathname) &&
    url.pathname !== '/report/token' && url.pathname !== '/report/thanks';
}

// Data the coverage page loads (its layers), network first like the map's.
function isData(url) {
  return url.pathname.indexOf('/api/v1/map/') === 0 || url.pathname === '/api/v1/venues' ||
    url.pathname.indexOf('/api/v1/coverage') === 0;
}

// Offline and never seen at this URL: the same page in another query, the page's language first.
function anyCopy(url) {
  return caches.open(CACHE).then(function (c) {
    return c.keys().then(function (keys) {
      var lang = url.searchParams.get('lang') || '';
      var same = keys.map(function (k) { return new URL(k.url); }).filter(function (k) { return k.pathname === url.pathname; });
      same.sort(function (a, b) { return ((b.searchParams.get('lang') || '') === lang) - ((a.searchParams.get('lang') || '') === lang); });
      return same.length ? c.match(same[0].href) : null;
    });
  });
}

function pageFirst(req) {
  var url = new URL(req.url);
  return networkFirst(req, url.pathname + url.search).then(function (resp) {
    return resp.type === 'error' ? anyCopy(url).then(function (hit) { return hit || resp; }) : resp;
  });
}

// 'keep': a page loaded before the worker ran asks for itself and its data to be kept (what is not kept yet).
self.addEventListener('message', function (event) {
  var msg = event.data || {};
  if (msg.type !== 'keep' || !Array.isArray(msg.urls)) return;
  event.waitUntil(caches.open(CACHE).then(function (c) {
    return Promise.all(msg.urls.slice(0, 50).map(function (u) {
      var url;
      try { url = new URL(u, self.location.origin); } catch (e) { return null; }
      if (url.origin !== self.location.origin) return null;
      var key = isPage(url) ? url.pathname + url.search : isData(url) || url.pathname.indexOf('/static/') === 0 ? url.href : null;
      if (!key) return null;
      return c.match(key).then(function (hit) {
        if (hit) return null;
        return fetch(url.href, { credentials: 'same-origin' }).then(function (resp) {
          return resp.ok && !resp.redirected ? c.put(key, resp) : null;
        }).catch(function () { return null; });
      });
    }));
  }));
});

self.addEventListener('fetch', function (event) {
  var req = event.request;
  if (req.method !== 'GET') return;
  var url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  if (req.mode === 'navigate' && url.pathname === '/') {
    // the page in each language under its own key, so /?lang=en offline stays English
    var lang = url.searchParams.get('lang');
    event.respondWith(lang === 'en' || lang === 'zh' ? networkFirst(req, '/?lang=' + lang, '/') : networkFirst(req, '/'));
  } else if (req.mode === 'navigate' && isPage(url)) {
    event.respondWith(pageFirst(req));
  } else if (isData(url)) {
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
