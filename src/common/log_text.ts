// The `--log-format text` rendering of one JSON log record, for people reading a terminal:
//   2026-11-29T16:41:13.123Z INFO  pd: store registered store=2 address=127.0.0.1:23801
// Fields after the message are key=value (JSON for anything but plain words and numbers);
// an error's stack follows on indented lines. pid and the time are the record's own.

const HIDDEN = new Set(['time', 'level', 'msg', 'component', 'pid', 'hostname', 'err']);

/** One line (more for an error's stack), newline-terminated. */
export function formatLogRecord(rec: Record<string, unknown>): string {
  const level = String(rec.level ?? '').toUpperCase();
  const head = [
    String(rec.time ?? ''),
    level.padEnd(5),
    `${String(rec.component ?? 'nyx')}:`,
    String(rec.msg ?? ''),
  ].join(' ');
  const fields = Object.entries(rec)
    .filter(([k]) => !HIDDEN.has(k))
    .map(([k, v]) => `${k}=${fieldText(v)}`);
  let out = fields.length > 0 ? `${head} ${fields.join(' ')}` : head;
  const err = rec.err as { message?: unknown; stack?: unknown } | string | undefined;
  if (typeof err === 'string') out += ` err=${fieldText(err)}`;
  else if (err && typeof err === 'object') {
    out += ` err=${fieldText(String(err.message ?? ''))}`;
    if (typeof err.stack === 'string') {
      out +=
        '\n' +
        err.stack
          .split('\n')
          .slice(1)
          .map((l) => `    ${l.trim()}`)
          .join('\n');
    }
  }
  return out + '\n';
}

function fieldText(v: unknown): string {
  if (typeof v === 'string') return /^[\w.:/@+-]+$/.test(v) ? v : JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return String(v);
  return JSON.stringify(v);
}
