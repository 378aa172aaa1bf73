// The key/value encoding model of the CLI (src/cli/encoding.ts): what a typed argument
// means, how bytes print for people and for scripts, and that nothing is ambiguous.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeArg,
  decodeArgList,
  displayBytes,
  encodingOf,
  isPlainText,
  jsonBytes,
  jsonEncodingFor,
  prefixEnd,
  quoteBytes,
} from '../../src/cli/encoding.js';

const b = (...bytes: number[]) => Buffer.from(bytes);

test('text arguments are taken verbatim: a 0x prefix is just text', () => {
  assert.deepEqual(decodeArg('0xabc', 'text', 'key'), Buffer.from('0xabc'));
  assert.deepEqual(decodeArg('0x00ff', 'text', 'key'), Buffer.from('0x00ff'));
  assert.deepEqual(decodeArg('héllo', 'text', 'key'), Buffer.from('héllo', 'utf8'));
  assert.deepEqual(decodeArg('', 'text', 'key'), Buffer.alloc(0));
});

test('--hex takes pairs of hex digits (an optional 0x) and refuses anything else', () => {
  assert.deepEqual(decodeArg('00ff', 'hex', 'key'), b(0x00, 0xff));
  assert.deepEqual(decodeArg('0x00FF', 'hex', 'key'), b(0x00, 0xff));
  assert.throws(() => decodeArg('abc', 'hex', 'key'), /key "abc" is an odd number of hex digits/);
  assert.throws(() => decodeArg('0xabc', 'hex', 'value'), /value "0xabc" is an odd number/);
  assert.throws(() => decodeArg('zz', 'hex', 'key'), /key "zz" is not hex/);
  assert.throws(() => decodeArg('00 ff', 'hex', 'key'), /is not hex/);
});

test('--base64 takes canonical padded base64 only, so a typo is not silently other bytes', () => {
  assert.deepEqual(decodeArg('AP8=', 'base64', 'key'), b(0x00, 0xff));
  assert.deepEqual(decodeArg('aGVsbG8=', 'base64', 'key'), Buffer.from('hello'));
  assert.deepEqual(decodeArg('', 'base64', 'key'), Buffer.alloc(0));
  for (const bad of ['zz', 'AP8', 'AP8==', 'A P8=', 'AP8=x', '-_8='])
    assert.throws(() => decodeArg(bad, 'base64', 'key'), /is not base64/, bad);
});

test('the encoding flags exclude each other', () => {
  assert.equal(encodingOf({}), 'text');
  assert.equal(encodingOf({ hex: true }), 'hex');
  assert.equal(encodingOf({ base64: true }), 'base64');
  assert.throws(() => encodingOf({ hex: true, base64: true }), /exclude each other/);
});

test('lists decode each item under the encoding', () => {
  assert.deepEqual(decodeArgList('g, n,,t', 'text', 'split key'), [
    Buffer.from('g'),
    Buffer.from('n'),
    Buffer.from('t'),
  ]);
  assert.deepEqual(decodeArgList('40,80', 'hex', 'split key'), [b(0x40), b(0x80)]);
  assert.throws(() => decodeArgList('40,8', 'hex', 'split key'), /split key "8"/);
});

test('plain text prints as itself; anything invisible, binary or quote-led prints escaped', () => {
  for (const s of ['hello', 'user:42', 'héllo wörld', '日本語', '0x00ff', 'a"b', 'a\\b'])
    assert.equal(displayBytes(Buffer.from(s), 'text'), s, s);
  assert.equal(displayBytes(b(0x00, 0xff), 'text'), '"\\x00\\xff"');
  assert.equal(displayBytes(Buffer.from('a\tb'), 'text'), '"a\\x09b"');
  assert.equal(displayBytes(Buffer.from('"quoted"'), 'text'), '"\\"quoted\\""');
  assert.equal(displayBytes(Buffer.from(' padded'), 'text'), '" padded"');
  assert.equal(displayBytes(Buffer.from('zero\u200bwidth'), 'text'), '"zero\\xe2\\x80\\x8bwidth"');
  assert.equal(displayBytes(Buffer.alloc(0), 'text'), '""');
  assert.equal(isPlainText(b(0xc3)), false, 'a truncated UTF-8 sequence is not text');
});

test('--hex and --base64 output is what --hex and --base64 input read back', () => {
  const samples = [b(), b(0), b(0xff, 0, 0x41), Buffer.from('0xabc'), Buffer.from('héllo')];
  for (const s of samples) {
    assert.deepEqual(decodeArg(displayBytes(s, 'hex'), 'hex', 'k'), s);
    assert.deepEqual(decodeArg(displayBytes(s, 'base64'), 'base64', 'k'), s);
  }
});

/** Reads a printed form back: the escaped form if it starts with a quote, else the text. */
function readBack(printed: string): Buffer {
  if (!printed.startsWith('"')) return Buffer.from(printed, 'utf8');
  assert.ok(printed.endsWith('"') && printed.length >= 2, printed);
  const out: number[] = [];
  const body = printed.slice(1, -1);
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== '\\') {
      assert.ok(c.charCodeAt(0) >= 0x20 && c.charCodeAt(0) < 0x7f && c !== '"', printed);
      out.push(c.charCodeAt(0));
    } else if (body[i + 1] === 'x') {
      out.push(parseInt(body.slice(i + 2, i + 4), 16));
      i += 3;
    } else {
      out.push(body.charCodeAt(i + 1));
      i += 1;
    }
  }
  return Buffer.from(out);
}

test('the human form is unambiguous: every printed form reads back to exactly its bytes', () => {
  // A seeded generator: bytes biased towards the troublesome ones (quote, backslash,
  // space, controls, UTF-8 lead and continuation bytes, "0x").
  let seed = 12345;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const alphabet = [
    0x22, 0x5c, 0x20, 0x00, 0x09, 0x0a, 0x7f, 0xc3, 0xa9, 0xe2, 0x80, 0x8b, 0x30, 0x78, 0x61, 0x7a,
    0xff,
  ];
  for (let i = 0; i < 5000; i++) {
    const len = rand(8);
    const bytes = Buffer.from(
      Array.from({ length: len }, () => (rand(2) ? alphabet[rand(alphabet.length)]! : rand(256))),
    );
    const printed = displayBytes(bytes, 'text');
    assert.deepEqual(readBack(printed), bytes, `${bytes.toString('hex')} printed as ${printed}`);
  }
  assert.equal(quoteBytes(Buffer.from('a"\\')), '"a\\"\\\\"');
});

test('JSON names one encoding per object: utf8 when every byte string is UTF-8, else base64', () => {
  assert.equal(jsonEncodingFor([Buffer.from('k'), Buffer.from('v')], 'text'), 'utf8');
  assert.equal(jsonEncodingFor([Buffer.from('k'), b(0xff)], 'text'), 'base64');
  assert.equal(jsonEncodingFor([Buffer.from('k'), undefined], 'text'), 'utf8');
  assert.equal(jsonEncodingFor([Buffer.from('k')], 'hex'), 'hex');
  assert.equal(jsonEncodingFor([Buffer.from('k')], 'base64'), 'base64');
  for (const enc of ['utf8', 'hex', 'base64'] as const) {
    const v = enc === 'utf8' ? Buffer.from('a\u0000\n"é') : b(0, 0xff, 0x80);
    assert.deepEqual(Buffer.from(jsonBytes(v, enc), enc), v);
  }
});

test('prefixEnd is the first key after every key with the prefix', () => {
  assert.deepEqual(prefixEnd(Buffer.from('user:')), Buffer.from('user;'));
  assert.deepEqual(prefixEnd(b(0x61, 0xff)), b(0x62));
  assert.deepEqual(prefixEnd(b(0x61, 0xff, 0xff)), b(0x62));
  assert.deepEqual(prefixEnd(b(0xff, 0xff)), b(), 'no key is after all of them: +infinity');
  assert.deepEqual(prefixEnd(b()), b());
  const p = b(0x10, 0xff);
  prefixEnd(p);
  assert.deepEqual(p, b(0x10, 0xff), 'the prefix itself is not changed');
});
