/* The public problem report, written offline: kept in the browser and sent when the network is back.
 *
 * Offline, or when the post fails for want of a network while the browser thinks it is online, submitting
 * the form keeps the report in localStorage (not the page's CSRF token) and says "已保存，联网后自动发送".
 * When the browser is online again (the 'online' event, the next time a report page or its thanks page
 * loads, or every 30 s while the page is open) each kept report is sent with a fresh token from /report/token:
 * the one in a cached page may have expired or belong to an older session. The server checks that token
 * as for any form (Flask-WTF), so nothing here weakens CSRF; see locator/web/reports.py.
 *
 * A report leaves the queue only once the server has answered for it: accepted (the redirect to the
 * thanks page), or refused for its content (400: the reason is shown, resending would not help). A
 * network failure, a refused token (403) or the hourly limit (429) keep it for the next try. */
(function () {
  'use strict';
  var KEY = 'locator-report-queue-v1';
  var box = document.getElementById('report-queue');
  if (!box) return;
  var form = document.querySelector('form[data-queue]');
  var tokenUrl = box.getAttribute('data-token');
  var thanksUrl = box.getAttribute('data-thanks');

  function load() {
    try { return JSON.parse(localStorage.getItem(KEY) || '[]') || []; } catch (e) { return []; }
  }
  function save(q) { localStorage.setItem(KEY, JSON.stringify(q)); }

  function say(state, extra) {
    box.querySelectorAll('[data-state]').forEach(function (e) { e.hidden = e.getAttribute('data-state') !== state; });
    var x = box.querySelector('[data-state="' + state + '"] .extra');
    if (x) x.textContent = extra || '';
  }

  function here(item) { return form && item.url === form.getAttribute('data-url'); }

  function keep() {
    var fields = [];
    new FormData(form).forEach(function (v, k) { if (k !== 'csrf_token') fields.push([k, String(v)]); });
    var q = load();
    q.push({ url: form.getAttribute('data-url'), fields: fields, queued: Date.now() });
    save(q);
    form.querySelectorAll('button, input, select, textarea').forEach(function (e) { e.disabled = true; });
    say('queued');
  }

  if (form) {
    form.addEventListener('submit', function (event) {
      if (form.getAttribute('data-native')) return;
      event.preventDefault();
      if (navigator.onLine === false) { keep(); return; }
      // Online, or so the browser thinks: post it here, so that a network that fails ("lie-fi") keeps the
      // report instead of showing the browser's error page. The page's own token goes with it.
      fetch(form.getAttribute('data-url'), { method: 'POST', body: new URLSearchParams(new FormData(form)), credentials: 'same-origin' })
        .then(function (r) {
          if (r.ok && r.redirected) { location.assign(r.url); return; }
          // refused (400, 403, 429): nothing was stored, so the ordinary post shows the server's answer
          form.setAttribute('data-native', '1');
          form.submit();
        }, keep);
    });
  }

  function send(item) {
    return fetch(tokenUrl, { credentials: 'same-origin', cache: 'no-store' }).then(function (r) {
      if (!r.ok) throw new Error(String(r.status));
      return r.json();
    }).then(function (t) {
      var body = new URLSearchParams(item.fields);
      body.set('csrf_token', t.csrf_token);
      return fetch(item.url, { method: 'POST', body: body, credentials: 'same-origin' });
    }).then(function (r) {
      if (r.ok && r.redirected) return { done: true };
      if (r.status === 400) {
        return r.text().then(function (html) {
          var err = new DOMParser().parseFromString(html, 'text/html').querySelector('.error');
          return { done: true, error: err ? err.textContent : String(r.status) };
        });
      }
      return { done: false };
    }, function () { return { done: false }; });
  }

  var busy = false;
  function flush() {
    if (busy || navigator.onLine === false || !load().length) return;
    busy = true;
    var sentHere = false, refusedHere = null;
    // one item at a time, each read afresh: another tab may be sending too (Web Locks keep them apart)
    function next(seen) {
      var q = load(), item = q.find(function (i) { return seen.indexOf(i.queued + i.url) < 0; });
      if (!item) return Promise.resolve();
      seen.push(item.queued + item.url);
      if (here(item)) say('sending');
      return send(item).then(function (res) {
        if (res.done) {
          save(load().filter(function (i) { return i.queued + i.url !== item.queued + item.url; }));
          if (here(item)) { if (res.error) refusedHere = res.error; else sentHere = true; }
        }
        return next(seen);
      });
    }
    var run = function () { return next([]); };
    var job = navigator.locks ? navigator.locks.request('locator-report-queue', run) : run();
    job.then(function () {
      busy = false;
      if (refusedHere !== null) {
        say('refused', refusedHere);
        form.querySelectorAll('button, input, select, textarea').forEach(function (e) { e.disabled = false; });
      } else if (sentHere) {
        location.assign(thanksUrl);
      } else if (load().some(here)) {
        say('queued');
      } else {
        say('');
      }
    });
  }

  if (load().some(here)) {
    say('queued');
    if (form) form.querySelectorAll('button, input, select, textarea').forEach(function (e) { e.disabled = true; });
  }
  window.addEventListener('online', flush);
  flush();
  // a network that failed without the browser noticing sends no 'online' event: try again now and then
  setInterval(function () { if (load().some(here)) flush(); }, 30000);
})();
