// The Raft message codec: exact round trips over many seeded random messages, both
// directly and through the real serializer, and refusal of what the core cannot hold.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  EntryType,
  MessageType,
  SeededRand,
  newMessage,
  type Entry,
  type Message,
  type Snapshot,
} from '../../src/raft/index.js';
import { loadNyxProto, raftTransportService } from '../../src/proto/load.js';
import {
  RAFT_NUMBER_LIMIT,
  RaftCodecError,
  decodeMessage,
  encodeMessage,
  type WireMessage,
} from '../../src/store/raft_codec.js';

const SEED = 20240611;
const CASES = 2000;

/** An id: edge values often, otherwise small or anything up to 2^53 - 1. */
function safeInt(r: SeededRand): number {
  switch (r.intn(6)) {
    case 0:
      return 0;
    case 1:
      return Number.MAX_SAFE_INTEGER;
    case 2:
      return r.intn(2 ** 21) * 2 ** 32 + r.intn(2 ** 32);
    default:
      return r.intn(1000);
  }
}

/** A term or an index: the same, but up to RAFT_NUMBER_LIMIT, the most the codec takes. */
function raftInt(r: SeededRand): number {
  switch (r.intn(6)) {
    case 0:
      return 0;
    case 1:
      return RAFT_NUMBER_LIMIT;
    case 2:
      return r.intn(2 ** 21 - 1) * 2 ** 32 + r.intn(2 ** 32);
    default:
      return r.intn(1000);
  }
}

function bytes(r: SeededRand, max: number): Uint8Array {
  const b = new Uint8Array(r.intn(max + 1));
  for (let i = 0; i < b.length; i++) b[i] = r.intn(256);
  return b;
}

function ids(r: SeededRand): number[] {
  return Array.from({ length: r.intn(5) }, () => safeInt(r));
}

const TYPES = Object.values(MessageType);

function randomEntry(r: SeededRand): Entry {
  return {
    term: raftInt(r),
    index: raftInt(r),
    type: r.intn(2) === 0 ? EntryType.Normal : EntryType.ConfChange,
    data: bytes(r, 64),
  };
}

function randomSnapshot(r: SeededRand): Snapshot {
  return {
    data: bytes(r, 256),
    metadata: {
      confState: {
        voters: ids(r),
        votersOutgoing: ids(r),
        learners: ids(r),
        learnersNext: ids(r),
        autoLeave: r.intn(2) === 1,
      },
      index: raftInt(r),
      term: raftInt(r),
    },
  };
}

function randomMessage(r: SeededRand): Message {
  const m = newMessage({
    type: TYPES[r.intn(TYPES.length)]!,
    to: safeInt(r),
    from: safeInt(r),
    term: raftInt(r),
    logTerm: raftInt(r),
    index: raftInt(r),
    entries: Array.from({ length: r.intn(4) }, () => randomEntry(r)),
    commit: raftInt(r),
    reject: r.intn(2) === 1,
    rejectHint: raftInt(r),
  });
  if (r.intn(4) === 0) m.snapshot = randomSnapshot(r);
  // Absent, present but empty, and present with bytes must all stay distinct.
  const ctx = r.intn(3);
  if (ctx === 1) m.context = new Uint8Array(0);
  if (ctx === 2) m.context = bytes(r, 16);
  return m;
}

test('decode(encode(m)) is m for many random messages', () => {
  const r = new SeededRand(SEED);
  for (let i = 0; i < CASES; i++) {
    const m = randomMessage(r);
    assert.deepStrictEqual(decodeMessage(encodeMessage(m)), m, `case ${i} (seed ${SEED})`);
  }
});

// The loader's (de)serializer (names and decimal strings, as the snapshot stream and test
// peers speak) and the one stores speak the Raft stream with (protobufjs directly: enum
// numbers and Longs), in every pairing: a store reads what a loader client wrote and
// the other way round.
const loaderRaft = loadNyxProto().nyx.raft.RaftTransport.service.Raft;
const storeRaft = raftTransportService().Raft;
const pairings = [
  ['loader to loader', loaderRaft, loaderRaft],
  ['store to store', storeRaft, storeRaft],
  ['loader to store', loaderRaft, storeRaft],
  ['store to loader', storeRaft, loaderRaft],
] as const;

for (const [pairing, from, to] of pairings)
  test(`random messages survive the real serializers, many per batch (${pairing})`, () => {
    const r = new SeededRand(SEED + 1);
    for (let b = 0; b < CASES / 20; b++) {
      const msgs = Array.from({ length: 1 + r.intn(20) }, () => randomMessage(r));
      const wire = from.requestSerialize({
        msgs: msgs.map((m, i) => ({ regionId: i + 1, message: encodeMessage(m) })),
      });
      const out = to.requestDeserialize(wire) as unknown as {
        msgs: { regionId: unknown; message: WireMessage }[];
      };
      assert.equal(out.msgs.length, msgs.length);
      out.msgs.forEach((rm, i) => {
        assert.equal(String(rm.regionId), String(i + 1));
        assert.deepStrictEqual(decodeMessage(rm.message), msgs[i], `batch ${b} msg ${i}`);
      });
    }
  });

test('the Raft stream a store serves hands uint64s over as Longs, not strings', () => {
  const method = raftTransportService().Raft;
  const m = newMessage({ type: MessageType.Heartbeat, term: 2 ** 40 + 3, to: 7 });
  const out = method.requestDeserialize(
    method.requestSerialize({ msgs: [{ regionId: 9, message: encodeMessage(m) }] }),
  ) as unknown as { msgs: { message: WireMessage }[] };
  const term = out.msgs[0]!.message.term as { high: number; low: number };
  assert.equal(typeof term, 'object');
  assert.deepEqual([term.high, term.low], [2 ** 8, 3]);
  assert.equal(decodeMessage(out.msgs[0]!.message).term, 2 ** 40 + 3);
});

test('decoded bytes are plain Uint8Arrays sharing the received buffer', () => {
  const data = new Uint8Array([1, 2, 3]);
  const m = newMessage({
    type: MessageType.App,
    entries: [{ term: 1, index: 1, type: EntryType.Normal, data }],
  });
  const w = encodeMessage(m);
  // Encoding wraps, it does not copy.
  assert.equal(w.entries[0]!.data.buffer, data.buffer);
  const back = decodeMessage(w);
  assert.equal(Object.getPrototypeOf(back.entries[0]!.data), Uint8Array.prototype);
  assert.equal(back.entries[0]!.data.buffer, data.buffer);
});

test('the encoder writes the numbers of the .proto, one per type; names decode as well', () => {
  const wire = TYPES.map((t) => encodeMessage(newMessage({ type: t })).type);
  assert.equal(new Set(wire).size, TYPES.length);
  const msgEnum = loadNyxProto().nyx.raft.MessageType;
  const declared = (msgEnum.type as { value: { name: string; number: number }[] }).value;
  assert.deepEqual(
    [...wire].sort((a, b) => Number(a) - Number(b)),
    declared.map((v) => v.number).sort((a, b) => a - b),
  );
  for (const t of TYPES) {
    const w = encodeMessage(newMessage({ type: t }));
    const name = declared.find((v) => v.number === w.type)!.name as WireMessage['type'];
    assert.equal(decodeMessage({ ...w, type: name }).type, t);
  }
});

test('what the core cannot hold is refused, not rounded', () => {
  const base = encodeMessage(newMessage({ type: MessageType.Heartbeat, term: 3 }));
  const bad = (patch: Partial<WireMessage>) => () => decodeMessage({ ...base, ...patch });
  assert.throws(bad({ term: '9007199254740992' }), RaftCodecError); // 2^53
  assert.throws(bad({ commit: '18446744073709551615' }), RaftCodecError);
  // An enum value this build does not know arrives as its number.
  assert.throws(bad({ type: 99 as unknown as WireMessage['type'] }), RaftCodecError);
  assert.throws(
    bad({ entries: [{ type: 'EntryNormal', term: '1', index: '1e3', data: Buffer.alloc(0) }] }),
    RaftCodecError,
  );
  assert.throws(() => encodeMessage(newMessage({ type: MessageType.App, index: -1 })), RangeError);
  assert.throws(() => encodeMessage(newMessage({ type: MessageType.App, term: 0.5 })), RangeError);
});

test('a snapshot with no metadata on the wire reads as empty metadata', () => {
  const w = encodeMessage(newMessage({ type: MessageType.Snap }));
  w.snapshot = { data: Buffer.from('d'), metadata: null };
  assert.deepStrictEqual(decodeMessage(w).snapshot, {
    data: new Uint8Array([0x64]),
    metadata: {
      confState: {
        voters: [],
        votersOutgoing: [],
        learners: [],
        learnersNext: [],
        autoLeave: false,
      },
      index: 0,
      term: 0,
    },
  });
});

test('terms and indexes round-trip exactly up to RAFT_NUMBER_LIMIT and are refused, typed, above it', () => {
  // The limit leaves 2^32 increments below 2^53: what the core derives stays exact.
  assert.equal(RAFT_NUMBER_LIMIT, 2 ** 53 - 2 ** 32);
  assert.ok(Number.isSafeInteger(RAFT_NUMBER_LIMIT + 2 ** 32 - 1));
  const top = newMessage({
    type: MessageType.App,
    term: RAFT_NUMBER_LIMIT,
    logTerm: RAFT_NUMBER_LIMIT,
    index: RAFT_NUMBER_LIMIT - 1,
    commit: RAFT_NUMBER_LIMIT,
    rejectHint: RAFT_NUMBER_LIMIT,
    entries: [
      {
        term: RAFT_NUMBER_LIMIT,
        index: RAFT_NUMBER_LIMIT,
        type: EntryType.Normal,
        data: new Uint8Array(),
      },
    ],
  });
  top.snapshot = {
    data: new Uint8Array(),
    metadata: {
      confState: {
        voters: [Number.MAX_SAFE_INTEGER],
        votersOutgoing: [],
        learners: [],
        learnersNext: [],
        autoLeave: false,
      },
      index: RAFT_NUMBER_LIMIT,
      term: RAFT_NUMBER_LIMIT,
    },
  };
  // Through the real serializer, as a peer would send it.
  const method = loadNyxProto().nyx.raft.RaftTransport.service.Raft;
  const wire = method.requestDeserialize(
    method.requestSerialize({ msgs: [{ regionId: '1', message: encodeMessage(top) }] }),
  ).msgs[0]!.message!;
  assert.deepStrictEqual(decodeMessage(wire), top);

  const above = String(RAFT_NUMBER_LIMIT + 1);
  const refusedAt = (patch: (w: WireMessage) => void) => {
    const w = structuredClone(wire);
    patch(w);
    assert.throws(
      () => decodeMessage(w),
      (e: unknown) => e instanceof RaftCodecError && e.fault === 'out-of-range',
    );
  };
  for (const v of [above, '9007199254740991', '9007199254740993', '18446744073709551615']) {
    refusedAt((w) => (w.term = v));
    refusedAt((w) => (w.logTerm = v));
    refusedAt((w) => (w.index = v));
    refusedAt((w) => (w.commit = v));
    refusedAt((w) => (w.rejectHint = v));
    refusedAt((w) => (w.entries[0]!.term = v));
    refusedAt((w) => (w.entries[0]!.index = v));
    refusedAt((w) => (w.snapshot!.metadata!.index = v));
    refusedAt((w) => (w.snapshot!.metadata!.term = v));
  }
  // Ids are only compared: any exact number is fine, beyond it is refused.
  refusedAt((w) => (w.from = '9007199254740992'));
  refusedAt((w) => (w.snapshot!.metadata!.confState!.voters = ['18446744073709551615']));
  // A sender whose own term went past the limit still encodes (it must not fail its loop);
  // receivers refuse it.
  const past = encodeMessage(
    newMessage({ type: MessageType.Heartbeat, term: RAFT_NUMBER_LIMIT + 5 }),
  );
  assert.equal(past.term, RAFT_NUMBER_LIMIT + 5);
  assert.throws(() => decodeMessage(past), RaftCodecError);
});

test('Longs above what the core holds are refused at decode, typed, not rounded', () => {
  const send = loadNyxProto().nyx.raft.RaftTransport.service.Raft;
  const recv = raftTransportService().Raft;
  const base = encodeMessage(newMessage({ type: MessageType.App, term: 3 }));
  const through = (patch: Record<string, unknown>) =>
    (
      recv.requestDeserialize(
        send.requestSerialize({ msgs: [{ regionId: 1, message: { ...base, ...patch } }] }),
      ) as unknown as { msgs: { message: WireMessage }[] }
    ).msgs[0]!.message;
  const refused = (patch: Record<string, unknown>) =>
    assert.throws(
      () => decodeMessage(through(patch)),
      (e: unknown) => e instanceof RaftCodecError && e.fault === 'out-of-range',
      JSON.stringify(patch),
    );
  for (const v of [
    String(RAFT_NUMBER_LIMIT + 1),
    '9007199254740992', // 2^53: a number would round it to a valid-looking 2^53
    '9007199254740993',
    '18446744073709551615',
  ]) {
    refused({ term: v });
    refused({ commit: v });
    refused({ entries: [{ type: 'EntryNormal', term: '1', index: v, data: Buffer.alloc(0) }] });
  }
  refused({ to: '9007199254740992' });
  refused({ from: '18446744073709551615' });
  // The largest values that fit are kept exactly.
  assert.equal(decodeMessage(through({ term: String(RAFT_NUMBER_LIMIT) })).term, RAFT_NUMBER_LIMIT);
  assert.equal(
    decodeMessage(through({ to: String(Number.MAX_SAFE_INTEGER) })).to,
    Number.MAX_SAFE_INTEGER,
  );
});
