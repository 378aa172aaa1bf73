// Durations as people write them in settings: "10s", "30m", "1h30m", "500ms", "2h".
// The units of Go's time.ParseDuration, which PD's and TiKV's configs use (ms, s, m, h;
// several may be chained, largest first). A bare number is refused: "20" could mean
// seconds or milliseconds, and guessing wrong by 1000x is how a store gets declared Down.

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const PART = /(\d+(?:\.\d+)?)(ms|h|m|s)/y;

/** Milliseconds of a duration string; throws a one-line error for anything else. */
export function parseDuration(text: string): number {
  const s = text.trim();
  const bad = () =>
    new Error(`not a duration: ${JSON.stringify(text)} (use e.g. 500ms, 10s, 30m, 1h30m)`);
  if (s === '') throw bad();
  if (s === '0') return 0;
  let ms = 0;
  let lastUnit = Infinity;
  PART.lastIndex = 0;
  while (PART.lastIndex < s.length) {
    const m = PART.exec(s);
    if (!m) throw bad();
    const unit = UNIT_MS[m[2]!]!;
    // "1h30m", not "30m1h" or "1s1s": one reading only.
    if (unit >= lastUnit) throw bad();
    lastUnit = unit;
    ms += Number(m[1]) * unit;
  }
  const rounded = Math.round(ms);
  if (!Number.isSafeInteger(rounded))
    throw new Error(`duration ${JSON.stringify(text)} is too large`);
  return rounded;
}

/** A duration for people, in the form parseDuration reads back: "1h30m", "20s", "250ms". */
export function formatDuration(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < 0) throw new Error(`not a duration in ms: ${ms}`);
  if (ms === 0) return '0s';
  let rest = ms;
  let out = '';
  for (const [unit, size] of [
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
    ['ms', 1],
  ] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * size;
    }
  }
  return out;
}
