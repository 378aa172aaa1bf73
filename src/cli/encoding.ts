// How keys and values cross the command line, one model for every command that takes or
// prints them (kv, region, pd start's split keys, and later txn):
//
// - Input: what the user types is TEXT, taken verbatim as UTF-8, unless the command is
//   given --hex or --base64, which then applies to every key and value argument of that
//   command. There is no in-band prefix: "0xabc" is the five-byte text key "0xabc", and
//   bytes are typed with --hex. An in-band "0x" convention made a typo silently change
//   a key's meaning (odd digits fell back to text) and left text keys that start with
//   "0x" impossible to type; a flag cannot be misread. Values can also come from a file
//   or stdin, byte for byte (see value_source.ts).
// - Output for people follows the same flag: --hex prints hex, --base64 prints base64,
//   so what is printed can be pasted back with the same flag. Without a flag a key or
//   value prints as itself when it is plain text (valid UTF-8, nothing invisible or
//   ambiguous), else as a double-quoted escaped string, "user\x00\x01". A printed form
//   that starts with a double quote is always the escaped form (text starting with a
//   quote is escaped too), so the two cannot be confused — the escaped-key style tikv-ctl
//   prints.
// - Output for scripts (--json) names its encoding: every object with keys or values has
//   "encoding": "utf8" | "hex" | "base64", the Node Buffer encoding that turns its strings
//   back into the exact bytes. Without a flag an object is "utf8" when all its bytes are
//   valid UTF-8, else "base64" (JSON strings cannot hold arbitrary bytes).
import { Errors } from '@oclif/core';

export type Encoding = 'text' | 'hex' | 'base64';
export type JsonEncoding = 'utf8' | 'hex' | 'base64';

export function encodingOf(flags: { hex?: boolean; base64?: boolean }): Encoding {
  if (flags.hex && flags.base64) throw new Errors.CLIError('--hex and --base64 exclude each other');
  return flags.hex ? 'hex' : flags.base64 ? 'base64' : 'text';
}

const HEX = /^(?:[0-9a-fA-F]{2})*$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** The bytes an argument stands for; `what` names it in the error ("key", "value"). */
export function decodeArg(s: string, enc: Encoding, what: string): Buffer {
  switch (enc) {
    case 'text':
      return Buffer.from(s, 'utf8');
    case 'hex': {
      // A 0x prefix is harmless here: --hex already says what the digits are.
      const digits = s.startsWith('0x') || s.startsWith('0X') ? s.slice(2) : s;
      if (!HEX.test(digits)) {
        const why =
          digits.length % 2 === 1 && /^[0-9a-fA-F]*$/.test(digits)
            ? 'an odd number of hex digits'
            : 'not hex';
        throw new Errors.CLIError(`${what} ${JSON.stringify(s)} is ${why} (--hex)`);
      }
      return Buffer.from(digits, 'hex');
    }
    case 'base64': {
      // Buffer.from(s, 'base64') skips what it does not understand; a typo must not
      // silently become other bytes, so the text must be canonical padded base64.
      if (!BASE64.test(s))
        throw new Errors.CLIError(`${what} ${JSON.stringify(s)} is not base64 (--base64)`);
      return Buffer.from(s, 'base64');
    }
  }
}

/** "a,b,c" -> keys, each decoded; empty items are skipped. */
export function decodeArgList(s: string, enc: Encoding, what: string): Buffer[] {
  return s
    .split(',')
    .map((k) => k.trim())
    .filter((k) => k.length > 0)
    .map((k) => decodeArg(k, enc, what));
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The string these bytes are in UTF-8, or undefined when they are not valid UTF-8. */
export function utf8(b: Uint8Array): string | undefined {
  try {
    return UTF8.decode(b);
  } catch {
    return undefined;
  }
}

// Invisible or layout-breaking characters (controls, format characters such as zero-width
// space, unassigned code points, line/paragraph separators, whitespace other than a plain
// space): a text containing them prints escaped, so what is seen is what is stored.
const NOT_PLAIN = /[\p{C}\p{Zl}\p{Zp}]|[^\S ]/u;

/** Whether these bytes print as themselves (see the model above). */
export function isPlainText(b: Uint8Array): boolean {
  const s = utf8(b);
  if (s === undefined || s.length === 0) return false;
  if (s.startsWith('"') || s.startsWith(' ') || s.endsWith(' ')) return false;
  return !NOT_PLAIN.test(s);
}

/** "\x00ab\"c" style: printable ASCII as itself, " and \ escaped, every other byte \xNN. */
export function quoteBytes(b: Uint8Array): string {
  let out = '"';
  for (const byte of b) {
    if (byte === 0x22) out += '\\"';
    else if (byte === 0x5c) out += '\\\\';
    else if (byte >= 0x20 && byte < 0x7f) out += String.fromCharCode(byte);
    else out += `\\x${byte.toString(16).padStart(2, '0')}`;
  }
  return out + '"';
}

/** How bytes print for people under an encoding. */
export function displayBytes(b: Uint8Array, enc: Encoding): string {
  const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  switch (enc) {
    case 'hex':
      return buf.toString('hex');
    case 'base64':
      return buf.toString('base64');
    case 'text':
      return isPlainText(buf) ? buf.toString('utf8') : quoteBytes(buf);
  }
}

/** The one encoding a JSON object uses for all of these byte strings. */
export function jsonEncodingFor(items: (Uint8Array | undefined)[], enc: Encoding): JsonEncoding {
  if (enc !== 'text') return enc;
  return items.every((b) => b === undefined || utf8(b) !== undefined) ? 'utf8' : 'base64';
}

export function jsonBytes(b: Uint8Array, enc: JsonEncoding): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString(enc);
}

/** The first key after every key that starts with `prefix`; empty (+infinity) if none. */
export function prefixEnd(prefix: Uint8Array): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i] = end[i]! + 1;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.alloc(0);
}
