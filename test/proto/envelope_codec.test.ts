// The envelope codec refuses, with one typed error, everything the store cannot hold; what
// it can, it carries through the stores' own Raft stream serializers unchanged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageType, newMessage } from '../../src/raft/index.js';
import { PeerRole } from '../../src/region/meta.js';
import { Uint64RangeError, uint64ToNumber, boundedUint64ToNumber } from '../../src/proto/uint64.js';
import { decodeEnvelope, encodeEnvelope } from '../../src/store/envelope_codec.js';
import { RaftCodecError } from '../../src/store/raft_codec.js';
import type { RaftMessage, RaftMessage__Output } from '../../src/proto-gen/nyx/raft/RaftMessage.js';
import { raftTransportService } from '../../src/proto/load.js';

const env = {
  regionId: 7,
  fromPeer: { id: 71, storeId: 1, role: PeerRole.Voter },
  toPeer: { id: 72, storeId: Number.MAX_SAFE_INTEGER, role: PeerRole.Learner },
  epoch: { confVer: 3, version: 9 },
  message: newMessage({ type: MessageType.Heartbeat, from: 71, to: 72, term: 5, commit: 4 }),
};

function wire(): RaftMessage__Output {
  return structuredClone(encodeEnvelope(env)) as unknown as RaftMessage__Output;
}

test('an envelope round-trips exactly', () => {
  assert.deepStrictEqual(decodeEnvelope(wire()), env);
});

test('every refusal of an envelope is a RaftCodecError', () => {
  const refused = (patch: (w: RaftMessage__Output) => void, fault: RaftCodecError['fault']) => {
    const w = wire();
    patch(w);
    assert.throws(
      () => decodeEnvelope(w),
      (e: unknown) => e instanceof RaftCodecError && e.fault === fault,
    );
  };
  refused((w) => (w.regionId = '18446744073709551615'), 'out-of-range');
  refused((w) => (w.fromPeer!.storeId = '9007199254740992'), 'out-of-range');
  refused((w) => (w.toPeer!.id = '-1'), 'out-of-range');
  refused((w) => (w.regionEpoch!.version = '1e3'), 'out-of-range');
  refused((w) => (w.message!.term = '9007199254740991'), 'out-of-range');
  refused((w) => (w.fromPeer!.role = 7 as unknown as 'Voter'), 'unknown-type');
  refused((w) => (w.fromPeer = null), 'malformed');
  refused((w) => (w.message = null), 'malformed');
});

test('uint64 conversions refuse with a typed RangeError naming the field', () => {
  assert.equal(uint64ToNumber('9007199254740991'), Number.MAX_SAFE_INTEGER);
  assert.throws(
    () => uint64ToNumber('9007199254740992', 'term'),
    (e: unknown) =>
      e instanceof Uint64RangeError &&
      e instanceof RangeError &&
      e.field === 'term' &&
      e.value === '9007199254740992',
  );
  assert.equal(boundedUint64ToNumber('10', 10), 10);
  assert.throws(() => boundedUint64ToNumber('11', 10, 'index'), Uint64RangeError);
  assert.throws(() => uint64ToNumber(' 7'), Uint64RangeError);
});

test("every role and hibernation signal crosses the stores' Raft stream as itself", () => {
  // The stream's serializer writes enums as numbers and takes nothing else: a name it
  // were given would be written as 0 (a Voter, no signal) without a word.
  const raft = raftTransportService().Raft;
  const roles = Object.values(PeerRole);
  const signals = [undefined, 'request', 'ack', 'wake'] as const;
  const sent = roles.flatMap((role, i) =>
    signals.map((hibernate, j) => ({
      ...env,
      regionId: 1 + i * signals.length + j,
      fromPeer: { ...env.fromPeer, role },
      toPeer: { ...env.toPeer, role: roles[(i + 1) % roles.length]! },
      ...(hibernate ? { hibernate } : {}),
    })),
  );
  const bytes = raft.requestSerialize({ msgs: sent.map(encodeEnvelope), fromStoreId: 1 });
  const got = raft.requestDeserialize(bytes) as unknown as { msgs: RaftMessage__Output[] };
  assert.deepStrictEqual(got.msgs.map(decodeEnvelope), sent);
});

test('an enum number this build does not know is refused, on the stream as by name', () => {
  const raft = raftTransportService().Raft;
  const roundTrip = (patch: (w: RaftMessage) => void) => {
    const w = encodeEnvelope(env);
    patch(w);
    const got = raft.requestDeserialize(raft.requestSerialize({ msgs: [w] })) as unknown as {
      msgs: RaftMessage__Output[];
    };
    return () => decodeEnvelope(got.msgs[0]!);
  };
  const unknownType = (e: unknown) => e instanceof RaftCodecError && e.fault === 'unknown-type';
  assert.throws(
    roundTrip((w) => (w.toPeer!.role = 9 as unknown as 'Voter')),
    unknownType,
  );
  assert.throws(
    roundTrip((w) => (w.hibernate = 9 as unknown as 'HIBERNATE_ACK')),
    unknownType,
  );
  assert.throws(
    roundTrip((w) => (w.message!.type = 99 as unknown as 'MsgApp')),
    unknownType,
  );
});
