// What `nyx kv scan` and `nyx txn scan` share: the range from start/end arguments or
// --prefix, and how the pairs print (a table for people, JSON objects for scripts).
import { decodeArg, displayBytes, prefixEnd, type Encoding } from './encoding.js';
import { kvJson } from './kv_json.js';
import { renderTable } from './output.js';

export interface ScanRange {
  start: Buffer;
  /** Absent: to the end of the key space. */
  end?: Buffer;
}

/** The range to scan, or the one-line error when both arguments and --prefix are given. */
export function scanRange(
  args: { start?: string; end?: string },
  prefix: string | undefined,
  enc: Encoding,
): ScanRange | string {
  if (prefix !== undefined) {
    if (args.start !== undefined || args.end !== undefined)
      return 'give start/end keys or --prefix, not both';
    const start = decodeArg(prefix, enc, 'prefix');
    return { start, end: prefixEnd(start) };
  }
  const start =
    args.start === undefined ? Buffer.alloc(0) : decodeArg(args.start, enc, 'start key');
  return args.end === undefined ? { start } : { start, end: decodeArg(args.end, enc, 'end key') };
}

export interface ScannedPair {
  key: Buffer;
  value?: Buffer;
}

/** The pairs as JSON objects. */
export function scanJson(pairs: readonly ScannedPair[], keysOnly: boolean, enc: Encoding) {
  return pairs.map((p) => kvJson(p.key, keysOnly ? undefined : (p.value ?? Buffer.alloc(0)), enc));
}

/** The pairs as a table with a count, or "(no keys)". */
export function scanTable(pairs: readonly ScannedPair[], keysOnly: boolean, enc: Encoding): string {
  if (pairs.length === 0) return '(no keys)';
  const rows = pairs.map((p) =>
    keysOnly
      ? [displayBytes(p.key, enc)]
      : [displayBytes(p.key, enc), displayBytes(p.value ?? Buffer.alloc(0), enc)],
  );
  const table = renderTable(keysOnly ? ['key'] : ['key', 'value'], rows);
  return `${table}\n${pairs.length} key${pairs.length === 1 ? '' : 's'}`;
}
