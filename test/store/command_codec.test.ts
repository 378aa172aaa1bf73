// The Raft command codec: requests with and without sessions, the log's time, the old
// format, and malformed bytes refused with MalformedCommandError.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BinaryWriter, MalformedCommandError } from '../../src/store/cmd/binary.js';
import { RaftCommand, decodeCommand, encodeCommand } from '../../src/store/cmd/command.js';

const b = (s: string) => Buffer.from(s);

test('a command round-trips with its requests, sessions and time', () => {
  const cmd: RaftCommand = {
    regionId: 12,
    epoch: { confVer: 3, version: 4 },
    timeMs: 1_700_000_000_123,
    requests: [
      {
        session: { id: b('abc'), seq: 9, lowestPending: 7 },
        writes: [{ op: 'put', cf: 'raw', key: b('k'), value: b('v') }],
      },
      {
        writes: [
          { op: 'delete', cf: 'raw', key: b('d') },
          { op: 'deleteRange', cf: 'raw', start: b('a'), end: b('') },
          { op: 'cas', cf: 'raw', key: b('c'), value: b('n'), previous: null },
          { op: 'cas', cf: 'write', key: b('c'), value: b('n'), previous: b('o') },
        ],
      },
    ],
  };
  assert.deepEqual(decodeCommand(encodeCommand(cmd)), cmd);
});

test('version-1 commands (one write list, no session) are still read', () => {
  const w = new BinaryWriter();
  w.u8(1).num(5).num(1).num(2).u32(1).u8(1).u8(0).bytes(b('k')).bytes(b('v'));
  assert.deepEqual(decodeCommand(w.finish()), {
    regionId: 5,
    epoch: { confVer: 1, version: 2 },
    timeMs: 0,
    requests: [{ writes: [{ op: 'put', cf: 'raw', key: b('k'), value: b('v') }] }],
  });
});

test('malformed commands are refused, never half-read', () => {
  const good = encodeCommand({
    regionId: 1,
    epoch: { confVer: 1, version: 1 },
    timeMs: 5,
    requests: [{ session: { id: b('s'), seq: 1, lowestPending: 1 }, writes: [] }],
  });
  const bad = (f: (w: BinaryWriter) => void) => {
    const w = new BinaryWriter();
    f(w);
    return w.finish();
  };
  const cases: [string, Buffer][] = [
    ['truncated', good.subarray(0, good.length - 3)],
    ['trailing', Buffer.concat([good, b('x')])],
    ['unknown version', bad((w) => w.u8(9))],
    ['fractional region id', bad((w) => w.u8(2).num(1.5).num(1).num(1).num(0).u32(0))],
    ['negative time', bad((w) => w.u8(2).num(1).num(1).num(1).num(-1).u32(0))],
    [
      'huge epoch',
      bad((w) =>
        w
          .u8(2)
          .num(1)
          .num(2 ** 60)
          .num(1)
          .num(0)
          .u32(0),
      ),
    ],
    [
      'empty session id',
      bad((w) =>
        w.u8(2).num(1).num(1).num(1).num(0).u32(1).u8(1).bytes(b('')).num(1).num(1).u32(0),
      ),
    ],
    [
      'session table as a column family',
      bad((w) =>
        w
          .u8(2)
          .num(1)
          .num(1)
          .num(1)
          .num(0)
          .u32(1)
          .u8(0)
          .u32(1)
          .u8(1)
          .u8(4)
          .bytes(b('k'))
          .bytes(b('v')),
      ),
    ],
    ['bad request flags', bad((w) => w.u8(2).num(1).num(1).num(1).num(0).u32(1).u8(7))],
  ];
  for (const [what, data] of cases) {
    assert.throws(() => decodeCommand(data), MalformedCommandError, what);
  }
});
