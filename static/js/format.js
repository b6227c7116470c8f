/* How the worker map says distances, travel times, opening hours and "open now" (list and card alike).
 * An ES module; the rules themselves (the walk-or-ride threshold) are common.js's. */
import * as C from './common.js';

var DAYS = { zh: { Mo: '周一', Tu: '周二', We: '周三', Th: '周四', Fr: '周五', Sa: '周六', Su: '周日', PH: '节假日' },
  en: { Mo: 'Mon', Tu: 'Tue', We: 'Wed', Th: 'Thu', Fr: 'Fri', Sa: 'Sat', Su: 'Sun', PH: 'public holidays' } };

/* The formatters in the page's language (`_` is its translator). */
export function formatters(_, lang) {
  function distance(m) {
    if (m < 1000) return _('%(n)s 米', { n: Math.max(10, Math.round(m / 10) * 10) });
    return _('%(n)s 公里', { n: (m / 1000).toFixed(m < 10000 ? 1 : 0) });
  }
  // OpenStreetMap opening_hours, made readable: "Mo-Fr 08:00-12:00" -> "周一至周五 08:00-12:00".
  function hours(expr) {
    var d = DAYS[lang] || DAYS.zh, zh = lang !== 'en';
    if (expr.trim() === '24/7') return _('全天 24 小时');
    return expr.replace(/\b(Mo|Tu|We|Th|Fr|Sa|Su|PH)-(Mo|Tu|We|Th|Fr|Sa|Su)\b/g, function (m, a, b) { return d[a] + (zh ? '至' : '–') + d[b]; })
      .replace(/\b(Mo|Tu|We|Th|Fr|Sa|Su|PH)\b/g, function (m, a) { return d[a]; })
      .replace(/\boff\b/g, _('休息')).replace(/,/g, ', ').replace(/;\s*/g, zh ? '；' : '; ');
  }
  // walking up to 2 km, an e-bike beyond (C.travelTime, as locator/travel.py): never a multi-hour walk
  function travel(m) {
    var t = C.travelTime(m), walk = t.mode === 'walk';
    if (t.minutes <= 90) return _(walk ? '步行约 %(n)s 分钟' : '骑电动车约 %(n)s 分钟', { n: t.minutes });
    return _('骑电动车约 %(n)s 小时', { n: (t.minutes / 60).toFixed(1) });
  }
  function openText(o) { return o === true ? _('正在开放') : o === false ? _('已关闭') : _('开放时间未知'); }
  function openClass(o) { return o === true ? 'open' : o === false ? 'closed' : 'unknown'; }
  // "2026-11-03": the day (in Hainan) of an ISO 8601 UTC time
  function day(iso) {
    var t = new Date(iso);
    if (isNaN(t.getTime())) return '';
    return new Date(t.getTime() + 8 * 3600 * 1000).toISOString().slice(0, 10);
  }
  return { distance: distance, hours: hours, travel: travel, openText: openText, openClass: openClass, day: day };
}
