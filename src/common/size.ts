// Sizes as people write them in flags and settings: "64MiB", "2GiB", "512KB", "1048576".
// Binary (KiB, MiB, GiB, TiB) and decimal (KB, MB, GB, TB) units, as TiKV's config takes
// them; a bare number is bytes.

const UNITS: Record<string, number> = {
  '': 1,
  B: 1,
  KB: 1e3,
  MB: 1e6,
  GB: 1e9,
  TB: 1e12,
  KIB: 2 ** 10,
  MIB: 2 ** 20,
  GIB: 2 ** 30,
  TIB: 2 ** 40,
};

/** Bytes of a size string; throws a one-line error for anything else. */
export function parseSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  const unit = m ? UNITS[m[2]!.toUpperCase()] : undefined;
  if (!m || unit === undefined) {
    throw new Error(`not a size: ${JSON.stringify(text)} (use bytes, or e.g. 64MiB, 2GiB, 500MB)`);
  }
  const bytes = Math.round(Number(m[1]) * unit);
  if (!Number.isSafeInteger(bytes)) throw new Error(`size ${JSON.stringify(text)} is too large`);
  return bytes;
}

/** A size for people: the largest binary unit that keeps a number ≥ 1. */
export function formatSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${Number.isInteger(v) ? v : v.toFixed(1)}${units[i]}`;
}
