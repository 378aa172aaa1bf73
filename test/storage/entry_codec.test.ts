import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EntryType } from '../../src/raft/index.js';
import {
  EntryCodecError,
  decodeEntry,
  decodeEntryTerm,
  encodeEntry,
  readVarint,
  varintSize,
  writeVarint,
} from '../../src/storage/index.js';

test('varints round-trip up to 2^53', () => {
  for (const n of [0, 1, 127, 128, 300, 2 ** 31, 2 ** 32 + 5, 2 ** 40, Number.MAX_SAFE_INTEGER]) {
    const buf = new Uint8Array(varintSize(n));
    assert.equal(writeVarint(buf, 0, n), buf.length);
    assert.deepEqual(readVarint(buf, 0), [n, buf.length]);
  }
  assert.throws(() => writeVarint(new Uint8Array(10), 0, -1), RangeError);
});

test('entries round-trip compactly', () => {
  for (const [type, term, data] of [
    [EntryType.Normal, 1, Buffer.from('hello')],
    [EntryType.ConfChange, 2 ** 45, Buffer.from([0, 255, 1])],
    [EntryType.Normal, 0, Buffer.alloc(0)],
  ] as const) {
    const blob = encodeEntry({ index: 42, term, type, data });
    assert.equal(blob.length, 1 + varintSize(term) + data.length);
    const e = decodeEntry(42, blob);
    assert.deepEqual([e.index, e.term, e.type, Buffer.from(e.data)], [42, term, type, data]);
    assert.equal(decodeEntryTerm(blob), term);
  }
  assert.equal(
    encodeEntry({ index: 1, term: 5, type: EntryType.Normal, data: new Uint8Array(100) }).length,
    102,
  );
});

test('corrupt blobs are refused', () => {
  assert.throws(() => decodeEntry(1, Buffer.from([])), EntryCodecError);
  assert.throws(() => decodeEntry(1, Buffer.from([0x21, 1])), EntryCodecError); // version 2
  assert.throws(() => decodeEntry(1, Buffer.from([0x17, 1])), EntryCodecError); // type 7
  assert.throws(() => decodeEntry(1, Buffer.from([0x10, 0x80])), EntryCodecError); // cut varint
});
