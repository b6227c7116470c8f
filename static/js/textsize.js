/* Large text for older workers: a toggle (字号 大 / 标准) that puts the class
 * "large-text" on <html>, raising the root and body font size (map.css), and
 * remembers the choice in localStorage so it stays on across visits. Only the
 * page that shows the toggle applies it: an embed keeps its host's sizes. */
var KEY = 'locator.largeText';

function stored() {
  try { return window.localStorage.getItem(KEY) === '1'; } catch (e) { return false; }  // storage may be blocked
}

function store(on) {
  try { window.localStorage.setItem(KEY, on ? '1' : '0'); } catch (e) { /* the choice then lasts this visit */ }
}

/** Wire the toggle button; its data-large / data-standard hold the translated labels of the two states. */
export function initTextSize(button) {
  if (!button) return;
  var labels = { large: button.dataset.large, standard: button.dataset.standard };
  function apply(on) {
    document.documentElement.classList.toggle('large-text', on);
    button.setAttribute('aria-pressed', on ? 'true' : 'false');
    button.textContent = on ? labels.standard : labels.large;
  }
  apply(stored());
  button.hidden = false;
  button.addEventListener('click', function () {
    var on = !document.documentElement.classList.contains('large-text');
    store(on);
    apply(on);
  });
}
