// A Raft message with its routing header (region, from/to peer, epoch) to and from the wire.
import type { PeerRole as WirePeerRole } from '../proto-gen/nyx/meta/PeerRole.js';
import type {
  HibernateSignal,
  HibernateSignal__Output,
} from '../proto-gen/nyx/raft/HibernateSignal.js';
import type { RaftMessage } from '../proto-gen/nyx/raft/RaftMessage.js';
import { WireEpoch, WirePeer, epochFromProto, peerFromProto } from '../proto/convert_meta.js';
import { Peer, PeerRole } from '../region/meta.js';
import { Uint64RangeError, WireUint64, toUint64Number, uint64ToNumber } from '../proto/uint64.js';
import { wireEnum } from '../proto/raft_wire.js';
import {
  RaftCodecError,
  WireMessage,
  decodeMessage,
  encodeMessage,
  numbersOf,
  reverse,
} from './raft_codec.js';
import { RaftEnvelope } from './raft_store.js';

/** A decoded nyx.raft.RaftMessage, the fields read here, uint64s in any wire form. */
export interface WireRaftMessage {
  regionId: WireUint64;
  fromPeer: WirePeer | null;
  toPeer: WirePeer | null;
  regionEpoch: WireEpoch | null;
  message: WireMessage | null;
  hibernate?: HibernateSignal;
}

/** A decoded nyx.raft.RaftMessageBatch (see WireRaftMessage). */
export interface WireRaftMessageBatch {
  msgs: WireRaftMessage[];
  fromStoreId: WireUint64;
}

// Ids as numbers, not the decimal strings of convert_meta's encoders: see raft_codec.ts.
// Roles as the .proto's numbers (the Raft stream's serializer takes nothing else).
function peerToWire(p: Peer) {
  return {
    id: toUint64Number(p.id),
    storeId: toUint64Number(p.storeId),
    role: ROLE_TO_NUMBER[p.role],
  };
}

const ROLE_NAMES = Object.fromEntries(Object.values(PeerRole).map((r) => [r, r])) as Record<
  PeerRole,
  string
>;
const ROLE_TO_NUMBER = numbersOf<PeerRole, Extract<WirePeerRole, number>>(
  'nyx.meta.PeerRole',
  ROLE_NAMES,
);

type Signal = NonNullable<RaftEnvelope['hibernate']>;

const SIGNAL_TO_WIRE: Record<Signal, HibernateSignal__Output> = {
  request: 'HIBERNATE_REQUEST',
  ack: 'HIBERNATE_ACK',
  wake: 'HIBERNATE_WAKE',
};
const SIGNAL_TO_NUMBER = numbersOf<Signal, Extract<HibernateSignal, number>>(
  'nyx.raft.HibernateSignal',
  SIGNAL_TO_WIRE,
);
const SIGNAL_FROM_WIRE = reverse(SIGNAL_TO_WIRE, SIGNAL_TO_NUMBER);
const NO_SIGNAL = new Set<unknown>([
  undefined,
  'HIBERNATE_NONE',
  wireEnum('nyx.raft.HibernateSignal', 'HIBERNATE_NONE'),
]);

function signalFromWire(w: WireRaftMessage['hibernate']): RaftEnvelope['hibernate'] {
  if (NO_SIGNAL.has(w)) return undefined;
  const signal = SIGNAL_FROM_WIRE.get(w);
  if (signal === undefined)
    throw new RaftCodecError(`unknown hibernation signal ${String(w)}`, 'unknown-type');
  return signal;
}

export function encodeEnvelope(env: RaftEnvelope): RaftMessage {
  return {
    regionId: toUint64Number(env.regionId),
    fromPeer: peerToWire(env.fromPeer),
    toPeer: peerToWire(env.toPeer),
    regionEpoch: {
      confVer: toUint64Number(env.epoch.confVer),
      version: toUint64Number(env.epoch.version),
    },
    message: encodeMessage(env.message),
    ...(env.hibernate ? { hibernate: SIGNAL_TO_NUMBER[env.hibernate] } : {}),
  };
}

/**
 * The envelope of a wire message. Every refusal is a RaftCodecError (missing peers or
 * body, numbers out of range, unknown types or roles), so the receiver can count and drop
 * it without mistaking it for a bug of its own.
 */
export function decodeEnvelope(w: WireRaftMessage): RaftEnvelope {
  if (!w.fromPeer || !w.toPeer || !w.message)
    throw new RaftCodecError('raft message without peers or body');
  try {
    const hibernate = signalFromWire(w.hibernate);
    return {
      regionId: uint64ToNumber(w.regionId, 'region id'),
      fromPeer: peerFromProto(w.fromPeer),
      toPeer: peerFromProto(w.toPeer),
      epoch: epochFromProto(w.regionEpoch),
      message: decodeMessage(w.message),
      ...(hibernate ? { hibernate } : {}),
    };
  } catch (e) {
    if (e instanceof RaftCodecError) throw e;
    if (e instanceof Uint64RangeError) throw new RaftCodecError(e.message, 'out-of-range');
    // peerFromProto refuses a role this build does not know.
    if (e instanceof RangeError) throw new RaftCodecError(e.message, 'unknown-type');
    throw e;
  }
}
