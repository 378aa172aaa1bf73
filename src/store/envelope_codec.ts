// A Raft message with its routing header (region, from/to peer, epoch) to and from the wire.
import type { RaftMessage, RaftMessage__Output } from '../proto-gen/nyx/raft/RaftMessage.js';
import { epochFromProto, epochToProto, peerFromProto, peerToProto } from '../proto/convert_meta.js';
import { Uint64RangeError, toUint64, uint64ToNumber } from '../proto/uint64.js';
import { RaftCodecError, decodeMessage, encodeMessage } from './raft_codec.js';
import { RaftEnvelope } from './raft_store.js';

const SIGNAL_TO_WIRE = {
  request: 'HIBERNATE_REQUEST',
  ack: 'HIBERNATE_ACK',
  wake: 'HIBERNATE_WAKE',
} as const;

function signalFromWire(w: RaftMessage__Output['hibernate']): RaftEnvelope['hibernate'] {
  switch (w) {
    case 'HIBERNATE_NONE':
    case undefined:
      return undefined;
    case 'HIBERNATE_REQUEST':
      return 'request';
    case 'HIBERNATE_ACK':
      return 'ack';
    case 'HIBERNATE_WAKE':
      return 'wake';
    default:
      throw new RaftCodecError(`unknown hibernation signal ${String(w)}`, 'unknown-type');
  }
}

export function encodeEnvelope(env: RaftEnvelope): RaftMessage {
  return {
    regionId: toUint64(env.regionId),
    fromPeer: peerToProto(env.fromPeer),
    toPeer: peerToProto(env.toPeer),
    regionEpoch: epochToProto(env.epoch),
    message: encodeMessage(env.message),
    ...(env.hibernate ? { hibernate: SIGNAL_TO_WIRE[env.hibernate] } : {}),
  };
}

/**
 * The envelope of a wire message. Every refusal is a RaftCodecError (missing peers or
 * body, numbers out of range, unknown types or roles), so the receiver can count and drop
 * it without mistaking it for a bug of its own.
 */
export function decodeEnvelope(w: RaftMessage__Output): RaftEnvelope {
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
