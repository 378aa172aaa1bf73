// A Raft message with its routing header (region, from/to peer, epoch) to and from the wire.
import type { RaftMessage, RaftMessage__Output } from '../proto-gen/nyx/raft/RaftMessage.js';
import { epochFromProto, epochToProto, peerFromProto, peerToProto } from '../proto/convert_meta.js';
import { toUint64, uint64ToNumber } from '../proto/uint64.js';
import { decodeMessage, encodeMessage } from './raft_codec.js';
import { RaftEnvelope } from './raft_store.js';

export function encodeEnvelope(env: RaftEnvelope): RaftMessage {
  return {
    regionId: toUint64(env.regionId),
    fromPeer: peerToProto(env.fromPeer),
    toPeer: peerToProto(env.toPeer),
    regionEpoch: epochToProto(env.epoch),
    message: encodeMessage(env.message),
  };
}

/** Throws on a malformed message (missing peers or body, numbers out of range). */
export function decodeEnvelope(w: RaftMessage__Output): RaftEnvelope {
  if (!w.fromPeer || !w.toPeer || !w.message) throw new Error('raft message without peers or body');
  return {
    regionId: uint64ToNumber(w.regionId, 'region id'),
    fromPeer: peerFromProto(w.fromPeer),
    toPeer: peerFromProto(w.toPeer),
    epoch: epochFromProto(w.regionEpoch),
    message: decodeMessage(w.message),
  };
}
