// A transaction's write buffer: last write wins, a lock never hides a write, range
// queries in key order, and the limits hold at the write that crosses them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MutationBuffer, TxnTooLargeError } from '../../../src/client/txn/mutation_buffer.js';

const b = (s: string): Buffer => Buffer.from(s);

test('the last write of a key wins; locking a written key keeps the write', () => {
  const m = new MutationBuffer({ maxKeys: 10, maxBytes: 1000 });
  m.set({ kind: 'put', key: b('k'), value: b('1') });
  m.set({ kind: 'delete', key: b('k') });
  assert.equal(m.get(b('k'))?.kind, 'delete');
  m.set({ kind: 'put', key: b('k'), value: b('2') });
  m.set({ kind: 'lock', key: b('k') });
  assert.deepEqual(m.get(b('k')), { kind: 'put', key: b('k'), value: b('2') });
  m.set({ kind: 'lock', key: b('l') });
  assert.equal(m.get(b('l'))?.kind, 'lock');
  assert.equal(m.size, 2);
});

test('an insert over a key the transaction already wrote becomes a put', () => {
  const m = new MutationBuffer({ maxKeys: 10, maxBytes: 1000 });
  m.set({ kind: 'insert', key: b('a'), value: b('1') });
  assert.equal(m.get(b('a'))?.kind, 'insert');
  m.set({ kind: 'delete', key: b('b') });
  m.set({ kind: 'insert', key: b('b'), value: b('2') });
  assert.equal(m.get(b('b'))?.kind, 'put');
});

test('sorted() and inRange() answer in key order; an empty end is +infinity', () => {
  const m = new MutationBuffer({ maxKeys: 10, maxBytes: 1000 });
  for (const k of ['c', 'a', 'e', 'b']) m.set({ kind: 'put', key: b(k), value: b(k) });
  assert.deepEqual(
    m.sorted().map((x) => x.key.toString()),
    ['a', 'b', 'c', 'e'],
  );
  assert.deepEqual(
    m.inRange(b('b'), b('e')).map((x) => x.key.toString()),
    ['b', 'c'],
  );
  assert.deepEqual(
    m.inRange(b('c'), Buffer.alloc(0)).map((x) => x.key.toString()),
    ['c', 'e'],
  );
});

test('the key and byte limits fail the write that crosses them, and only that one', () => {
  const m = new MutationBuffer({ maxKeys: 2, maxBytes: 10 });
  m.set({ kind: 'put', key: b('a'), value: b('123') });
  m.set({ kind: 'put', key: b('b'), value: b('123') });
  assert.throws(() => m.set({ kind: 'put', key: b('c'), value: b('') }), TxnTooLargeError);
  // Rewriting a key already counted is fine if the bytes fit.
  m.set({ kind: 'put', key: b('a'), value: b('1234') });
  assert.equal(m.byteSize, 9);
  assert.throws(() => m.set({ kind: 'put', key: b('a'), value: b('123456') }), TxnTooLargeError);
  assert.equal(
    m.get(b('a'))?.value?.toString(),
    '1234',
    'a refused write leaves the buffer as it was',
  );
  assert.equal(m.byteSize, 9);
});
