// Numbers and instants as people read them, the same way the simulation's
// report writes them (host/src/report/format.rs and results/render.rs):
// 12,345 · ¥1,234 (whole yuan; under ¥100 keeps its fen) · 12.3% ·
// +1.5 pp [−0.2, +3.1] · 2026-12-05 11:04.

const DASH = '–';

/** 1234567 → "1,234,567"; null/undefined → "–". */
export function count(n) {
  if (n === null || n === undefined || Number.isNaN(Number(n))) return DASH;
  const value = Number(n);
  const sign = value < 0 ? '−' : '';
  const digits = String(Math.round(Math.abs(value)));
  return sign + digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** Fen → "¥1,234", or "¥12.50" under 100 yuan with fen, as the report does. */
export function yuan(fen) {
  if (fen === null || fen === undefined || Number.isNaN(Number(fen))) return DASH;
  const value = Math.round(Number(fen));
  const sign = value < 0 ? '-' : '';
  const abs = Math.abs(value);
  if (abs < 10000 && abs % 100 !== 0) {
    return `${sign}¥${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
  }
  return `${sign}¥${count(Math.floor((abs + 50) / 100))}`;
}

/** Yuan (a plugin's benefit value, a decision line's) → the same format. */
export function yuanOfYuan(value) {
  if (value === null || value === undefined) return DASH;
  return yuan(Math.round(Number(value) * 100));
}

/** 0.1234 → "12.3%". */
export function percent(fraction) {
  if (fraction === null || fraction === undefined) return DASH;
  return `${(Number(fraction) * 100).toFixed(1)}%`;
}

function signed(v) {
  const fixed = Math.abs(v).toFixed(1);
  if (Number(fixed) === 0) return `+${fixed}`;
  return v < 0 ? `−${fixed}` : `+${fixed}`;
}

/** Percentage points already (the results' `*_pp`) → "+1.5 pp". */
export function pp(points) {
  if (points === null || points === undefined) return DASH;
  return `${signed(Number(points))} pp`;
}

/** "+1.5 pp [−0.2, +3.1]", or "–" when any part is missing. */
export function uplift(points, low, high) {
  if ([points, low, high].some((v) => v === null || v === undefined)) return DASH;
  return `${signed(points)} pp [${signed(low)}, ${signed(high)}]`;
}

/** A ratio as the results table shows ROI: "1.25". */
export function ratio(r) {
  if (r === null || r === undefined) return DASH;
  return Number(r).toFixed(2);
}

/**
 * An instant as the API gives it (already in the brand's time zone) shown
 * to the minute: "2026-12-05T11:04:50.115+08:00" → "2026-12-05 11:04".
 * Anything else is shown as it is.
 */
export function when(text) {
  if (text === null || text === undefined || text === '') return DASH;
  const m = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})/.exec(String(text));
  return m ? `${m[1]} ${m[2]}` : String(text);
}

/** Milliseconds → "1.3 s" / "850 ms". */
export function duration(ms) {
  if (ms === null || ms === undefined) return DASH;
  return ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
}

/** Seconds → "~1 min 15 s". */
export function seconds(s) {
  if (s === null || s === undefined) return DASH;
  if (s < 60) return `~${s} s`;
  const min = Math.floor(s / 60);
  if (min < 60) return `~${min} min ${s % 60} s`;
  return `~${Math.floor(min / 60)} h ${min % 60} min`;
}

/** A date YYYY-MM-DD of a Date in the browser's calendar. */
export function isoDate(date) {
  const y = date.getFullYear();
  const m = String(date.getMonth() + 1).padStart(2, '0');
  const d = String(date.getDate()).padStart(2, '0');
  return `${y}-${m}-${d}`;
}

/** Any JSON value as one short line (configs in the audit trail). */
export function compact(value) {
  if (value === null || value === undefined) return DASH;
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}
