import assert from 'node:assert/strict';
import test from 'node:test';
import {
  decodeUserKey,
  decodeVersionKey,
  encodeUserKey,
  encodeVersionKey,
  mvccRange,
  tableRange,
} from '../../src/txn/mvcc/key_codec.js';

const keys = [
  '',
  '\x00',
  'a',
  'a\x00',
  'a\x00\x00\x00\x00\x00\x00\x00',
  'a\x00\x00\x00\x00\x00\x00\x00\x00',
  'abcdefg',
  'abcdefgh',
  'abcdefghi',
  'ab\xff',
  'b',
  '\xff\xff\xff\xff\xff\xff\xff\xff\xff',
].map((s) => Buffer.from(s, 'latin1'));

test('memcomparable encoding round-trips and keeps bytewise order', () => {
  for (const k of keys) {
    const e = encodeUserKey(k);
    assert.equal(e.length % 9, 0);
    const d = decodeUserKey(e);
    assert.deepEqual(d.key, k);
    assert.equal(d.size, e.length);
  }
  for (const x of keys) {
    for (const y of keys) {
      assert.equal(
        Math.sign(Buffer.compare(encodeUserKey(x), encodeUserKey(y))),
        Math.sign(Buffer.compare(x, y)),
        `${x.toString('hex')} vs ${y.toString('hex')}`,
      );
    }
  }
});

test('versions sort by user key, then newest first; a Region bound cuts every version', () => {
  const tss = [1n, 2n, 255n, 256n, (1n << 63n) + 5n];
  const rows: { k: Buffer; ts: bigint; enc: Buffer }[] = [];
  for (const k of keys) for (const ts of tss) rows.push({ k, ts, enc: encodeVersionKey(k, ts) });
  const sorted = [...rows].sort((a, b) => Buffer.compare(a.enc, b.enc));
  const expected = [...rows].sort((a, b) => Buffer.compare(a.k, b.k) || (a.ts > b.ts ? -1 : 1));
  assert.deepEqual(
    sorted.map((r) => [r.k.toString('hex'), r.ts]),
    expected.map((r) => [r.k.toString('hex'), r.ts]),
  );
  for (const r of rows) assert.deepEqual(decodeVersionKey(r.enc), { key: r.k, ts: r.ts });
  // u >= K  <=>  enc(u)||ts >= enc(K): the split property of mvccRange.
  for (const bound of keys.filter((k) => k.length > 0)) {
    const { start } = mvccRange(bound, Buffer.alloc(0));
    for (const r of rows) {
      assert.equal(Buffer.compare(r.enc, start) >= 0, Buffer.compare(r.k, bound) >= 0);
    }
  }
});

test('tableRange: raw keys as they are, MVCC tables at the encoded bounds', () => {
  const r = tableRange('raw', Buffer.from('b'), Buffer.from('d'));
  assert.deepEqual(r, { start: Buffer.from('b'), end: Buffer.from('d') });
  for (const t of ['lock', 'write', 'default'] as const) {
    const m = tableRange(t, Buffer.from('b'), Buffer.alloc(0));
    assert.deepEqual(m, { start: encodeUserKey(Buffer.from('b')), end: Buffer.alloc(0) });
  }
});
