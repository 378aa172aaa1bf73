// How numbers read in the dashboard: short, fixed-width-friendly, '-' for unknown.
import { formatKey } from '../region/meta.js';

export const NONE = '-';

export function fmtRate(v: number | null): string {
  if (v === null) return NONE;
  if (v >= 10_000) return `${(v / 1000).toFixed(0)}k`;
  if (v >= 1000) return `${(v / 1000).toFixed(1)}k`;
  if (v >= 10) return v.toFixed(0);
  return v.toFixed(1);
}

export function fmtMs(v: number | null): string {
  if (v === null) return NONE;
  if (v >= 1000) return `${(v / 1000).toFixed(2)}s`;
  if (v >= 10) return `${v.toFixed(0)}ms`;
  return `${v.toFixed(2)}ms`;
}

export function fmtBytes(v: number | null): string {
  if (v === null) return NONE;
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let x = v;
  let i = 0;
  while (x >= 1024 && i < units.length - 1) {
    x /= 1024;
    i++;
  }
  return `${x >= 100 || i === 0 ? x.toFixed(0) : x.toFixed(1)}${units[i]}`;
}

export function fmtCount(v: number | null): string {
  if (v === null) return NONE;
  if (v >= 1e6) return `${(v / 1e6).toFixed(1)}M`;
  if (v >= 1e4) return `${(v / 1e3).toFixed(0)}k`;
  return String(v);
}

/** 3725 -> "1h02m05s". */
export function fmtDuration(sec: number | null): string {
  if (sec === null) return NONE;
  const s = Math.floor(sec);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  if (h > 0) return `${h}h${String(m).padStart(2, '0')}m${String(r).padStart(2, '0')}s`;
  if (m > 0) return `${m}m${String(r).padStart(2, '0')}s`;
  return `${r}s`;
}

/** A hex key bound as people read it: printable text, else 0x…; '' is an open end. */
export function fmtKey(hex: string, openEnd: string): string {
  return hex === '' ? openEnd : formatKey(Buffer.from(hex, 'hex'));
}

export function fmtRange(startHex: string, endHex: string): string {
  return `[${fmtKey(startHex, '-inf')}, ${fmtKey(endHex, '+inf')})`;
}

export function fmtTime(ms: number): string {
  return new Date(ms).toISOString().slice(11, 19);
}

const BARS = '▁▂▃▄▅▆▇█';

/**
 * The last `width` values as a sparkline, scaled to their own max; unknown points are
 * blanks, so a store that stopped answering shows as a gap.
 */
export function sparkline(values: (number | null)[], width: number): string {
  const pts = values.slice(-width);
  const max = Math.max(0, ...pts.map((v) => v ?? 0));
  const line = pts
    .map((v) => {
      if (v === null) return ' ';
      if (max === 0) return BARS[0];
      return BARS[Math.min(BARS.length - 1, Math.floor((v / max) * (BARS.length - 1)))];
    })
    .join('');
  return line.padStart(width, ' ');
}

/** Pad or cut to exactly `width` columns (cut text ends in '…'). */
export function fit(s: string, width: number, align: 'left' | 'right' = 'left'): string {
  if (width <= 0) return '';
  if (s.length > width) return width === 1 ? '…' : `${s.slice(0, width - 1)}…`;
  return align === 'left' ? s.padEnd(width) : s.padStart(width);
}
