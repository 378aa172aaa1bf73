// The "no acknowledged write lost" check on hand-made histories.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KvOperation, Value } from './history.js';
import { findLostWrites, formatLostWrite } from './lost_writes.js';

let id = 0;
function w(
  f: 'put' | 'delete' | 'cas',
  call: number,
  ret: number | null,
  value = '',
  succeeded = true,
): KvOperation {
  const input =
    f === 'put'
      ? { f, key: 'k', value }
      : f === 'delete'
        ? { f, key: 'k' }
        : { f, key: 'k', expected: null, value };
  const output =
    ret === null
      ? undefined
      : f === 'cas'
        ? { f, succeeded, previous: succeeded ? null : 'x' }
        : { f };
  return {
    id: id++,
    client: id,
    input,
    output,
    call,
    ret: ret ?? Infinity,
  } as KvOperation;
}
const final = (v: Value) => new Map([['k', v]]);

test('the last acknowledged write is the final value: nothing lost', () => {
  const h = [w('put', 0, 1, 'a'), w('put', 2, 3, 'b')];
  assert.deepEqual(findLostWrites(h, final('b')), []);
});

test('an older value after a newer acknowledged write: lost', () => {
  const h = [w('put', 0, 1, 'a'), w('put', 2, 3, 'b')];
  const lost = findLostWrites(h, final('a'));
  assert.equal(lost.length, 1);
  assert.match(formatLostWrite(lost[0]!), /final read returned "a".*\n +"b" from put/);
});

test('absent after an acknowledged put: lost; after an acknowledged delete: fine', () => {
  assert.equal(findLostWrites([w('put', 0, 1, 'a')], final(null)).length, 1);
  assert.deepEqual(findLostWrites([w('put', 0, 1, 'a'), w('delete', 2, 3)], final(null)), []);
});

test('concurrent acknowledged writes: either may be last', () => {
  const h = [w('put', 0, 5, 'a'), w('put', 1, 4, 'b')];
  assert.deepEqual(findLostWrites(h, final('a')), []);
  assert.deepEqual(findLostWrites(h, final('b')), []);
});

test('an indeterminate write may or may not be the final value', () => {
  const h = [w('put', 0, 1, 'a'), w('put', 2, null, 'b')];
  assert.deepEqual(findLostWrites(h, final('a')), []);
  assert.deepEqual(findLostWrites(h, final('b')), []);
  // ...but an indeterminate write overwritten by a later acknowledged one is not.
  const h2 = [w('put', 0, null, 'b'), w('put', 10, 11, 'c')];
  assert.equal(findLostWrites([...h2], final('b')).length, 0, 'b may land after c: ret is ∞');
});

test('a successful CAS is an acknowledged write', () => {
  assert.deepEqual(findLostWrites([w('cas', 0, 1, 'a', true)], final('a')), []);
  assert.equal(findLostWrites([w('cas', 0, 1, 'a', true)], final(null)).length, 1);
});

test('a CAS that reported failure is no acknowledged write, but may have written', () => {
  // Its value in the final read is a linearizability violation (a CAS applied twice),
  // which that checker reports; it is not a lost write.
  assert.deepEqual(findLostWrites([w('cas', 0, 1, 'a', false)], final(null)), []);
  assert.deepEqual(findLostWrites([w('cas', 0, 1, 'a', false)], final('a')), []);
  // It does not excuse losing an acknowledged write made after it returned.
  const h = [w('cas', 0, 1, 'a', false), w('put', 2, 3, 'b')];
  const lost = findLostWrites(h, final('a'));
  assert.equal(lost.length, 1);
  assert.match(formatLostWrite(lost[0]!), /"b" from put .*acknowledged/);
});

test('a key that was never written must read absent', () => {
  assert.deepEqual(findLostWrites([], final(null)), []);
  assert.equal(findLostWrites([], final('ghost')).length, 1);
});
