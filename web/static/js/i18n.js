/**
 * Chinese first, English available. Strings live in one dictionary per language
 * (/static/i18n/zh-CN.js, /static/i18n/en.js) under the same keys; `{name}` is replaced
 * by params.name. The choice is remembered in this browser.
 */
import zh from '../i18n/zh-CN.js';
import en from '../i18n/en.js';

export const LANGUAGES = { 'zh-CN': zh, en };
const KEY = 'certflow.lang';

let current = LANGUAGES[localStorage.getItem(KEY)] ? localStorage.getItem(KEY) : 'zh-CN';
document.documentElement.lang = current;

export function lang() {
  return current;
}

export function isZh() {
  return current === 'zh-CN';
}

export function setLang(code) {
  if (!LANGUAGES[code]) return;
  current = code;
  localStorage.setItem(KEY, code);
  document.documentElement.lang = code;
  window.dispatchEvent(new CustomEvent('certflow:language', { detail: { lang: code } }));
}

export function t(key, params) {
  let s = LANGUAGES[current][key];
  if (s === undefined) {
    s = LANGUAGES['zh-CN'][key];
    if (s === undefined) {
      console.warn(`i18n: missing key ${key}`);
      return key;
    }
  }
  if (params) s = s.replace(/\{(\w+)\}/g, (m, name) => (params[name] === undefined ? m : String(params[name])));
  return s;
}

/** t() if the key exists, otherwise the fallback (e.g. a status code the dictionary does not know yet). */
export function tOr(key, fallback, params) {
  return LANGUAGES[current][key] !== undefined || LANGUAGES['zh-CN'][key] !== undefined ? t(key, params) : fallback;
}

/** A `{zh, en}` pair (e.g. the role labels the API sends) in the current language. */
export function pick(pair) {
  if (!pair || typeof pair !== 'object') return pair ?? '';
  return (isZh() ? pair.zh : pair.en) ?? pair.zh ?? pair.en ?? '';
}

const pad = (n) => String(n).padStart(2, '0');

/** 2025-03-01 14:30 in local time: the form government systems print, in both languages. */
export function formatDateTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function formatDate(iso) {
  if (!iso) return '';
  if (/^\d{4}-\d{2}-\d{2}$/.test(iso)) return iso;
  return formatDateTime(iso).slice(0, 10);
}

/** "in 3 hours" / "2 days ago", for due times. */
export function relativeTime(iso, now = Date.now()) {
  if (!iso) return '';
  const diff = new Date(iso).getTime() - now;
  const abs = Math.abs(diff);
  const units = [
    ['day', 86_400_000],
    ['hour', 3_600_000],
    ['minute', 60_000],
  ];
  for (const [unit, ms] of units) {
    if (abs >= ms || unit === 'minute') {
      const n = Math.max(1, Math.round(abs / ms));
      return t(diff >= 0 ? `time.in.${unit}` : `time.ago.${unit}`, { n });
    }
  }
  return '';
}
