import assert from 'node:assert/strict';
import test from 'node:test';
import { MalformedCommandError } from '../../src/store/cmd/binary.js';
import { decodeCommand, encodeCommand } from '../../src/store/cmd/command.js';
import { storedKey } from '../../src/store/txn_apply.js';
import { encodeUserKey, encodeVersionKey } from '../../src/txn/mvcc/key_codec.js';

const b = (s: string) => Buffer.from(s);
const ts = (1n << 63n) + 12345n;

test('MVCC writes round-trip with their versions and map to the MVCC layout', () => {
  const cmd = {
    regionId: 3,
    epoch: { confVer: 1, version: 2 },
    timeMs: 99,
    requests: [
      {
        writes: [
          { op: 'put' as const, cf: 'lock' as const, key: b('k'), value: b('L') },
          { op: 'put' as const, cf: 'write' as const, key: b('k'), ts, value: b('W') },
          { op: 'delete' as const, cf: 'default' as const, key: b('k'), ts: 7n },
          { op: 'put' as const, cf: 'raw' as const, key: b('r'), value: b('R') },
        ],
      },
    ],
  };
  const back = decodeCommand(encodeCommand(cmd));
  assert.deepEqual(back, cmd);
  const [l, w, d, r] = back.requests[0]!.writes as Parameters<typeof storedKey>[0][];
  assert.deepEqual(storedKey(l!), encodeUserKey(b('k')));
  assert.deepEqual(storedKey(w!), encodeVersionKey(b('k'), ts));
  assert.deepEqual(storedKey(d!), encodeVersionKey(b('k'), 7n));
  assert.deepEqual(storedKey(r!), b('r'));
});

test('a write row without a version (or a raw row with one) is a malformed command', () => {
  for (const w of [
    { op: 'put' as const, cf: 'write' as const, key: b('k'), value: b('W') },
    { op: 'put' as const, cf: 'raw' as const, key: b('k'), value: b('W'), ts: 1n },
  ]) {
    const bytes = encodeCommand({
      regionId: 3,
      epoch: { confVer: 1, version: 2 },
      timeMs: 0,
      requests: [{ writes: [w] }],
    });
    assert.throws(() => decodeCommand(bytes), MalformedCommandError);
  }
});
