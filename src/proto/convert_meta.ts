// Conversions between the wire forms of nyx.meta (generated types) and the domain types
// of src/region/meta.ts used by every layer. Ids travel as uint64 strings; the decoders of
// peers and epochs also take the other wire forms (WireUint64, roles by number), for the
// Raft stream.
import type { Peer as PeerMsg, Peer__Output } from '../proto-gen/nyx/meta/Peer.js';
import type { Region as RegionMsg, Region__Output } from '../proto-gen/nyx/meta/Region.js';
import type {
  RegionEpoch as EpochMsg,
  RegionEpoch__Output,
} from '../proto-gen/nyx/meta/RegionEpoch.js';
import type { Store as StoreMsg, Store__Output } from '../proto-gen/nyx/meta/Store.js';
import { Peer, PeerRole, Region, RegionEpoch } from '../region/meta.js';
import { StoreState, type StoreMeta } from '../pd/types.js';
import { wireEnum } from './raft_wire.js';
import { WireUint64, toUint64, uint64ToNumber } from './uint64.js';

const PEER_ROLES = new Set<string>(Object.values(PeerRole));

export function peerToProto(p: Peer): PeerMsg {
  return {
    id: toUint64(p.id),
    storeId: toUint64(p.storeId),
    role: p.role,
  };
}

/**
 * A decoded Peer whose ids may be in any wire form (WireUint64: a Long on the Raft stream)
 * and whose role may be a name (the loader) or the .proto's number (the Raft stream).
 */
export type WirePeer = Omit<Peer__Output, 'id' | 'storeId' | 'role'> & {
  id: WireUint64;
  storeId: WireUint64;
  role: Peer__Output['role'] | number;
};

/** Roles by the .proto's number, built on first use (only the Raft stream needs it). */
let rolesByNumber: Map<number, PeerRole> | undefined;

function roleFromWire(r: WirePeer['role']): PeerRole | undefined {
  if (typeof r === 'string') return PEER_ROLES.has(r) ? (r as PeerRole) : undefined;
  rolesByNumber ??= new Map(
    Object.values(PeerRole).map((role) => [wireEnum('nyx.meta.PeerRole', role), role]),
  );
  return rolesByNumber.get(r);
}

export function peerFromProto(p: WirePeer): Peer {
  const role = roleFromWire(p.role);
  // A role this build does not know (a newer peer's) must not silently become a voter.
  if (role === undefined) throw new RangeError(`unknown peer role ${String(p.role)}`);
  return {
    id: uint64ToNumber(p.id, 'peer id'),
    storeId: uint64ToNumber(p.storeId, 'store id'),
    role,
  };
}

export function epochToProto(e: RegionEpoch): EpochMsg {
  return { confVer: toUint64(e.confVer), version: toUint64(e.version) };
}

/** A decoded RegionEpoch in any wire form (see WirePeer). */
export interface WireEpoch {
  confVer: WireUint64;
  version: WireUint64;
}

export function epochFromProto(e: WireEpoch | RegionEpoch__Output | null | undefined): RegionEpoch {
  if (!e) return { confVer: 0, version: 0 };
  return {
    confVer: uint64ToNumber(e.confVer, 'conf_ver'),
    version: uint64ToNumber(e.version, 'version'),
  };
}

export function regionToProto(r: Region): RegionMsg {
  return {
    id: toUint64(r.id),
    startKey: r.startKey,
    endKey: r.endKey,
    regionEpoch: epochToProto(r.epoch),
    peers: r.peers.map(peerToProto),
  };
}

export function regionFromProto(r: Region__Output): Region {
  return {
    id: uint64ToNumber(r.id, 'region id'),
    startKey: Buffer.from(r.startKey),
    endKey: Buffer.from(r.endKey),
    epoch: epochFromProto(r.regionEpoch),
    peers: r.peers.map(peerFromProto),
  };
}

// Stores. `version` is the binary's version; the heartbeat time is set by PD.
export function storeToProto(s: StoreMeta, version = ''): StoreMsg {
  return {
    id: toUint64(s.id),
    address: s.address,
    statusAddress: s.statusAddress,
    state: s.state,
    labels: s.labels.map((l) => ({ key: l.key, value: l.value })),
    version,
    lastHeartbeatMs: toUint64(s.lastHeartbeatMs),
  };
}

export function storeFromProto(s: Store__Output): StoreMeta {
  return {
    id: uint64ToNumber(s.id, 'store id'),
    address: s.address,
    statusAddress: s.statusAddress,
    state: storeStateFromProto(s.state),
    labels: s.labels.map((l) => ({ key: l.key, value: l.value })),
    lastHeartbeatMs: uint64ToNumber(s.lastHeartbeatMs, 'last_heartbeat_ms'),
  };
}

function storeStateFromProto(s: Store__Output['state']): StoreState {
  switch (s) {
    case 'Offline':
      return StoreState.Offline;
    case 'Tombstone':
      return StoreState.Tombstone;
    default:
      return StoreState.Up;
  }
}
