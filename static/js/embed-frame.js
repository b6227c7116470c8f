/* Inside an embedded map (/embed): tell the page around the frame how tall the
 * content is, so static/embed.js can size the frame to fit.
 *
 * A frame starts in "fill" mode (body.fill): the map fills whatever height the
 * frame has, which is right for a plain <iframe height="…">. When the loader
 * (or the builder's preview) answers the first height message with
 * {type: 'hainan-venues:auto'}, the frame switches to "auto" mode: the map gets
 * a fixed height, and the frame follows the content (a venue card, a result list).
 *
 * The height message carries nothing but a number, so it goes to any parent
 * ('*'); the loader checks that it comes from this app's origin and from one of
 * its own frames. The answer is only obeyed from the parent window. */
(function () {
  'use strict';
  if (window.parent === window) { document.body.classList.remove('fill'); return; }
  var RESIZE = 'hainan-venues:resize', AUTO = 'hainan-venues:auto', last = -1, queued = false;
  function height() {
    // the body's own box, not the document's scrollHeight: that never shrinks below the frame
    return Math.ceil(document.body.getBoundingClientRect().height);
  }
  function post() {
    queued = false;
    var h = height();
    if (h === last || h <= 0) return;
    last = h;
    window.parent.postMessage({ type: RESIZE, height: h }, '*');
  }
  function schedule() {
    if (queued) return;
    queued = true;
    setTimeout(post, 30); // not requestAnimationFrame: paused in frames scrolled out of view
  }
  window.addEventListener('message', function (e) {
    if (e.source !== window.parent || !e.data || e.data.type !== AUTO) return;
    if (!document.body.classList.contains('fill')) return;
    document.body.classList.remove('fill');
    window.dispatchEvent(new Event('resize')); // Leaflet re-measures the map
    schedule();
  });
  if ('ResizeObserver' in window) new ResizeObserver(schedule).observe(document.body);
  window.addEventListener('load', schedule);
  window.addEventListener('resize', schedule);
  schedule();
})();
