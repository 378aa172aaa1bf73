// Keys as typed on the command line: plain text ("user42"), or hex with a 0x prefix
// ("0x00ff") for binary keys — the same form the tables print non-printable keys in.

export function parseKey(s: string): Buffer {
  if (/^0x([0-9a-fA-F]{2})*$/.test(s)) return Buffer.from(s.slice(2), 'hex');
  return Buffer.from(s, 'utf8');
}

/** "a,b,0x00ff" -> keys; empty items are skipped. */
export function parseKeyList(s: string): Buffer[] {
  return s
    .split(',')
    .map((k) => k.trim())
    .filter((k) => k.length > 0)
    .map(parseKey);
}
