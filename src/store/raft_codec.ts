// Converts the Raft core's messages (src/raft/types.ts) to and from their wire form
// (nyx.raft.Message in proto/raft.proto), exactly: every field, present-but-empty vs
// absent snapshot and context, and numbers vs wire uint64s. The core keeps terms, indexes
// and ids as numbers, so decoding rejects anything that does not fit exactly rather than
// letting a corrupt or hostile peer round it into a valid value.
//
// uint64s and enums leave as numbers (both serializers take them) and arrive in
// whichever form the deserializer gives: from the stores' Raft stream, decoded by
// protobufjs directly (src/proto/raft_wire.ts), uint64s as `Long`s and enums as numbers;
// from the snapshot stream, through the loader, decimal strings and names; from an
// in-process encoder, numbers. The decoders take every form (WireUint64; enums by name
// or number).
//
// Terms and indexes get a tighter bound than "fits in a number": RAFT_NUMBER_LIMIT. The
// core does arithmetic on them (a candidate's term + 1, an index + 1 per entry), and its
// results are persisted and sent again. Were a peer allowed to hand us 2^53 - 1, the next
// election's term would not be representable, every store that adopted it would fail to
// encode its next message, and the term, already in the persisted hard state, would fail
// it again after every restart (issue 7, finding 1). Below the limit, 2^32 elections or
// entries of headroom keep every derived value exact (safe integers) and encodable.
//
// Both directions share bytes instead of copying: encoding wraps the core's Uint8Arrays
// in Buffer views (the wire type) and decoding wraps the received Buffers in plain
// Uint8Array views (the core's type). Neither side mutates payloads after the fact, so
// sharing is safe and saves a copy of every entry on the hot path.
//
// The encoder's output (WireMessage<number>) is both what the serializer accepts and what
// the decoder takes, so an in-process transport (tests) can skip serialization and still
// exercise the codec.
import {
  EntryType,
  MessageType,
  type ConfState,
  type Entry,
  type Message,
  type Snapshot,
} from '../raft/index.js';
import type {
  EntryType as WireEntryTypeIn,
  EntryType__Output as WireEntryType,
} from '../proto-gen/nyx/raft/EntryType.js';
import type {
  MessageType as WireMessageTypeIn,
  MessageType__Output as WireMessageType,
} from '../proto-gen/nyx/raft/MessageType.js';
import {
  Uint64RangeError,
  WireUint64,
  toUint64Number,
  wireUint64ToNumber,
} from '../proto/uint64.js';
import { wireEnum } from '../proto/raft_wire.js';

// The wire shapes of proto/raft.proto's messages, with uint64 fields of type U: the
// deserializers' (defaults on, bytes as Buffers; enums as names from the loader, as
// numbers from the Raft stream's decoder) when U is WireUint64, the encoder's (enums as
// numbers) when it is number.
export interface WireEntry<U = WireUint64> {
  type: WireEntryTypeIn;
  term: U;
  index: U;
  data: Buffer;
}

export interface WireConfState<U = WireUint64> {
  voters: U[];
  votersOutgoing: U[];
  learners: U[];
  learnersNext: U[];
  autoLeave: boolean;
}

export interface WireSnapshot<U = WireUint64> {
  data: Buffer;
  metadata: { confState: WireConfState<U> | null; index: U; term: U } | null;
}

export interface WireMessage<U = WireUint64> {
  type: WireMessageTypeIn;
  to: U;
  from: U;
  term: U;
  logTerm: U;
  index: U;
  entries: WireEntry<U>[];
  commit: U;
  snapshot: WireSnapshot<U> | null;
  reject: boolean;
  rejectHint: U;
  context?: Buffer;
  _context?: 'context';
}

/**
 * The largest term or index accepted from the wire: 2^53 - 2^32. See the header: what the
 * core derives from an accepted value (+1 per election or entry) stays a safe integer.
 */
export const RAFT_NUMBER_LIMIT = 2 ** 53 - 2 ** 32;

/** Why a wire message was refused; a label for metrics. */
export type RaftCodecFault = 'out-of-range' | 'unknown-type' | 'malformed';

/** A wire message the core cannot represent (unknown type, out-of-range number). */
export class RaftCodecError extends Error {
  constructor(
    message: string,
    readonly fault: RaftCodecFault = 'malformed',
  ) {
    super(message);
    this.name = 'RaftCodecError';
  }
}

// Records keyed by the core's enums: adding a member to the core without a wire name
// fails to compile here.
const MESSAGE_TYPE_TO_WIRE: Record<MessageType, WireMessageType> = {
  [MessageType.Hup]: 'MsgHup',
  [MessageType.Beat]: 'MsgBeat',
  [MessageType.Prop]: 'MsgProp',
  [MessageType.App]: 'MsgApp',
  [MessageType.AppResp]: 'MsgAppResp',
  [MessageType.Vote]: 'MsgVote',
  [MessageType.VoteResp]: 'MsgVoteResp',
  [MessageType.PreVote]: 'MsgPreVote',
  [MessageType.PreVoteResp]: 'MsgPreVoteResp',
  [MessageType.Snap]: 'MsgSnap',
  [MessageType.Heartbeat]: 'MsgHeartbeat',
  [MessageType.HeartbeatResp]: 'MsgHeartbeatResp',
  [MessageType.Unreachable]: 'MsgUnreachable',
  [MessageType.SnapStatus]: 'MsgSnapStatus',
  [MessageType.CheckQuorum]: 'MsgCheckQuorum',
  [MessageType.TransferLeader]: 'MsgTransferLeader',
  [MessageType.TimeoutNow]: 'MsgTimeoutNow',
  [MessageType.ReadIndex]: 'MsgReadIndex',
  [MessageType.ReadIndexResp]: 'MsgReadIndexResp',
};

const ENTRY_TYPE_TO_WIRE: Record<EntryType, WireEntryType> = {
  [EntryType.Normal]: 'EntryNormal',
  [EntryType.ConfChange]: 'EntryConfChange',
};

// What the encoder writes: the .proto's numbers for those names (the Raft stream's
// serializer takes numbers only, src/proto/raft_wire.ts; the loader takes them too).
const MESSAGE_TYPE_TO_NUMBER = numbersOf<MessageType, Extract<WireMessageTypeIn, number>>(
  'nyx.raft.MessageType',
  MESSAGE_TYPE_TO_WIRE,
);
const ENTRY_TYPE_TO_NUMBER = numbersOf<EntryType, Extract<WireEntryTypeIn, number>>(
  'nyx.raft.EntryType',
  ENTRY_TYPE_TO_WIRE,
);

// Reverse maps keyed by name and by number: the Raft stream's decoder gives numbers, the
// loader's (the snapshot stream) names. A value this build does not know must miss here,
// not index an object.
const MESSAGE_TYPE_FROM_WIRE = reverse(MESSAGE_TYPE_TO_WIRE, MESSAGE_TYPE_TO_NUMBER);
const ENTRY_TYPE_FROM_WIRE = reverse(ENTRY_TYPE_TO_WIRE, ENTRY_TYPE_TO_NUMBER);

/**
 * An enum table's values as the .proto's numbers (N: the generated type's numbers,
 * which the .proto's own numbering makes true).
 */
export function numbersOf<K extends string | number, N extends number>(
  enumName: Parameters<typeof wireEnum>[0],
  names: Record<K, string>,
): Record<K, N> {
  const out = {} as Record<K, N>;
  for (const k of Object.keys(names) as K[]) out[k] = wireEnum(enumName, names[k]) as N;
  return out;
}

/** Core value by wire name or number. */
export function reverse<K extends string | number>(
  names: Record<K, string>,
  numbers: Record<K, number>,
): Map<unknown, K> {
  const m = new Map<unknown, K>();
  for (const k of Object.keys(names) as K[]) {
    // Numeric enums' record keys come back from Object.keys as '0', '1', ...
    const core = (typeof k === 'string' && /^[0-9]+$/.test(k) ? Number(k) : k) as K;
    m.set(names[k], core);
    m.set(numbers[k], core);
  }
  return m;
}

/** A Buffer over the same memory (the wire's bytes type), without copying. */
function asBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/** A plain Uint8Array over the same memory (the core's bytes type), without copying. */
function asBytes(b: Uint8Array): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

function bounded(v: WireUint64, max: number, what: string): number {
  try {
    return wireUint64ToNumber(v, max, what);
  } catch (e) {
    if (e instanceof Uint64RangeError) throw new RaftCodecError(e.message, 'out-of-range');
    throw e;
  }
}

/** A peer id: only compared, never incremented, so any exact number will do. */
function id(v: WireUint64, what: string): number {
  return bounded(v, Number.MAX_SAFE_INTEGER, what);
}

/** A term or an index: the core does arithmetic on it (see RAFT_NUMBER_LIMIT). */
function raftNum(v: WireUint64, what: string): number {
  return bounded(v, RAFT_NUMBER_LIMIT, what);
}

function ids(xs: WireUint64[], what: string): number[] {
  return xs.map((x) => id(x, what));
}

export function encodeEntry(e: Entry): WireEntry<number> {
  return {
    type: ENTRY_TYPE_TO_NUMBER[e.type],
    term: toUint64Number(e.term),
    index: toUint64Number(e.index),
    data: asBuffer(e.data),
  };
}

export function decodeEntry(w: WireEntry): Entry {
  const type = ENTRY_TYPE_FROM_WIRE.get(w.type);
  if (type === undefined)
    throw new RaftCodecError(`unknown entry type ${String(w.type)}`, 'unknown-type');
  return {
    term: raftNum(w.term, 'entry term'),
    index: raftNum(w.index, 'entry index'),
    type,
    data: asBytes(w.data),
  };
}

export function encodeConfState(cs: ConfState): WireConfState<number> {
  return {
    voters: cs.voters.map(toUint64Number),
    votersOutgoing: cs.votersOutgoing.map(toUint64Number),
    learners: cs.learners.map(toUint64Number),
    learnersNext: cs.learnersNext.map(toUint64Number),
    autoLeave: cs.autoLeave,
  };
}

/** An absent conf state (null) reads as the empty one, as proto3 defaults would. */
export function decodeConfState(w: WireConfState | null): ConfState {
  if (w === null) {
    return { voters: [], votersOutgoing: [], learners: [], learnersNext: [], autoLeave: false };
  }
  return {
    voters: ids(w.voters, 'voter id'),
    votersOutgoing: ids(w.votersOutgoing, 'outgoing voter id'),
    learners: ids(w.learners, 'learner id'),
    learnersNext: ids(w.learnersNext, 'next learner id'),
    autoLeave: w.autoLeave,
  };
}

export function encodeSnapshot(s: Snapshot): WireSnapshot<number> {
  return {
    data: asBuffer(s.data),
    metadata: {
      confState: encodeConfState(s.metadata.confState),
      index: toUint64Number(s.metadata.index),
      term: toUint64Number(s.metadata.term),
    },
  };
}

export function decodeSnapshot(w: WireSnapshot): Snapshot {
  const md = w.metadata;
  return {
    data: asBytes(w.data),
    metadata: {
      confState: decodeConfState(md?.confState ?? null),
      index: md === null ? 0 : raftNum(md.index, 'snapshot index'),
      term: md === null ? 0 : raftNum(md.term, 'snapshot term'),
    },
  };
}

/**
 * The wire form of a core message. Throws RangeError on a number the wire cannot carry
 * (not a safe integer). Terms and indexes above RAFT_NUMBER_LIMIT but below 2^53 are
 * still encoded: only the core's own arithmetic can get there, and refusing to send is
 * the receiver's decision, never a reason for the sender's loop to fail.
 */
export function encodeMessage(m: Message): WireMessage<number> {
  const w: WireMessage<number> = {
    type: MESSAGE_TYPE_TO_NUMBER[m.type],
    to: toUint64Number(m.to),
    from: toUint64Number(m.from),
    term: toUint64Number(m.term),
    logTerm: toUint64Number(m.logTerm),
    index: toUint64Number(m.index),
    entries: m.entries.map(encodeEntry),
    commit: toUint64Number(m.commit),
    snapshot: m.snapshot === undefined ? null : encodeSnapshot(m.snapshot),
    reject: m.reject,
    rejectHint: toUint64Number(m.rejectHint),
  };
  // proto3 `optional`: presence is what tells "no context" from "empty context"; the
  // loader marks it with the synthetic oneof `_context`, so the encoder does too.
  if (m.context !== undefined) {
    w.context = asBuffer(m.context);
    w._context = 'context';
  }
  return w;
}

/** The core message of a wire message. Throws RaftCodecError on what the core cannot hold. */
export function decodeMessage(w: WireMessage): Message {
  const type = MESSAGE_TYPE_FROM_WIRE.get(w.type);
  if (type === undefined)
    throw new RaftCodecError(`unknown message type ${String(w.type)}`, 'unknown-type');
  const m: Message = {
    type,
    to: id(w.to, 'to'),
    from: id(w.from, 'from'),
    term: raftNum(w.term, 'term'),
    logTerm: raftNum(w.logTerm, 'log term'),
    index: raftNum(w.index, 'index'),
    entries: w.entries.map(decodeEntry),
    commit: raftNum(w.commit, 'commit'),
    reject: w.reject,
    rejectHint: raftNum(w.rejectHint, 'reject hint'),
  };
  // Optional members are set only when present, so that a decoded message has exactly
  // the keys of the one that was encoded (deep equality holds).
  if (w.snapshot !== null && w.snapshot !== undefined) m.snapshot = decodeSnapshot(w.snapshot);
  // Absent reads as undefined from the loader and as null from the Raft stream's decoder
  // (protobufjs keeps an absent optional field's null on the prototype).
  const context = w.context as Buffer | null | undefined;
  if (context !== undefined && context !== null) m.context = asBytes(context);
  return m;
}
