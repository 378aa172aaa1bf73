// Conversions between the nyx.pd wire messages and PD's domain types, shared by the PD
// service (src/server/pd_service.ts) and the PD client (src/client/pd_client.ts) so both
// ends agree on one mapping: errors, timestamps, store stats, heartbeats and Regions.
import type { Error as ErrorMsg, Error__Output } from '../proto-gen/nyx/pd/Error.js';
import type { ErrorType__Output } from '../proto-gen/nyx/pd/ErrorType.js';
import type {
  RegionHeartbeatRequest,
  RegionHeartbeatRequest__Output,
} from '../proto-gen/nyx/pd/RegionHeartbeatRequest.js';
import type {
  RegionWithLeader,
  RegionWithLeader__Output,
} from '../proto-gen/nyx/pd/RegionWithLeader.js';
import type {
  StoreStats as StoreStatsMsg,
  StoreStats__Output,
} from '../proto-gen/nyx/pd/StoreStats.js';
import type { Timestamp, Timestamp__Output } from '../proto-gen/nyx/pd/Timestamp.js';
import type {
  GetRegionResponse,
  GetRegionResponse__Output,
} from '../proto-gen/nyx/pd/GetRegionResponse.js';
import type { PeerStats, PeerStats__Output } from '../proto-gen/nyx/pd/PeerStats.js';
import type { RegionHeartbeat, RegionInfo, RegionStats } from '../pd/cluster.js';
import { PdError, PdErrorCode } from '../pd/errors.js';
import { composeTs, decomposeTs } from '../pd/timestamp.js';
import type { StoreStats } from '../pd/types.js';
import type { Peer, StoreId } from '../region/meta.js';
import { peerFromProto, peerToProto, regionFromProto, regionToProto } from './convert_meta.js';
import { int64ToNumber, toInt64, toUint64, uint64ToNumber } from './uint64.js';

const CODES = new Set<string>(Object.values(PdErrorCode));

/**
 * Any failure as the wire error. PdErrors keep their code; a RangeError is what the
 * uint64/key converters throw on a malformed request, so it is the caller's fault
 * (InvalidArgument); anything else is a PD bug and says Unknown.
 */
export function errorToProto(e: unknown): ErrorMsg {
  if (e instanceof PdError) return { type: e.code, message: e.message };
  if (e instanceof RangeError) return { type: PdErrorCode.InvalidArgument, message: e.message };
  return { type: PdErrorCode.Unknown, message: e instanceof Error ? e.message : String(e) };
}

export function pdErrorFromProto(e: Error__Output): PdError {
  const code = CODES.has(e.type) ? (e.type as PdErrorCode) : PdErrorCode.Unknown;
  return new PdError(code, e.message || `PD error ${e.type}`);
}

export function errorTypeOf(e: Error__Output | ErrorMsg): ErrorType__Output {
  return (typeof e.type === 'string' ? e.type : 'Unknown') as ErrorType__Output;
}

// --- timestamps ---

export function tsToProto(ts: bigint): Timestamp {
  const { physical, logical } = decomposeTs(ts);
  return { physical: toInt64(physical), logical: toInt64(logical) };
}

export function tsFromProto(t: Timestamp__Output): bigint {
  return composeTs(int64ToNumber(t.physical, 'physical'), int64ToNumber(t.logical, 'logical'));
}

// --- store stats ---

/** What a store reports on each heartbeat: PD's StoreStats plus the reporting store. */
export interface StoreHeartbeatStats extends StoreStats {
  storeId: StoreId;
  /** Leaders the store reports; PD counts leaders from Region heartbeats instead. */
  leaderCount?: number;
}

export function storeStatsToProto(s: StoreHeartbeatStats): StoreStatsMsg {
  const n = (v: number | undefined) => toUint64(Math.max(0, Math.floor(v ?? 0)));
  return {
    storeId: toUint64(s.storeId),
    regionCount: n(s.regionCount),
    leaderCount: n(s.leaderCount),
    capacity: n(s.capacity),
    available: n(s.available),
    usedSize: n(s.usedSize),
    sendingSnapCount: n(s.sendingSnapCount),
    receivingSnapCount: n(s.receivingSnapCount),
    isBusy: s.isBusy ?? false,
  };
}

export function storeStatsFromProto(s: StoreStats__Output): StoreHeartbeatStats {
  const n = (v: string, what: string) => uint64ToNumber(v, what);
  return {
    storeId: n(s.storeId, 'store id'),
    regionCount: n(s.regionCount, 'region_count'),
    leaderCount: n(s.leaderCount, 'leader_count'),
    capacity: n(s.capacity, 'capacity'),
    available: n(s.available, 'available'),
    usedSize: n(s.usedSize, 'used_size'),
    sendingSnapCount: n(s.sendingSnapCount, 'sending_snap_count'),
    receivingSnapCount: n(s.receivingSnapCount, 'receiving_snap_count'),
    isBusy: s.isBusy,
  };
}

// --- Regions ---

export function regionInfoToProto(info: RegionInfo): RegionWithLeader {
  return {
    region: regionToProto(info.region),
    leader: info.leader ? peerToProto(info.leader) : null,
    hot: info.hot ?? [],
  };
}

export function regionInfoFromProto(
  r: Omit<RegionWithLeader__Output, 'hot'> & { hot?: string[] },
): RegionInfo {
  if (!r.region) throw new RangeError('region missing from a RegionWithLeader');
  const info: RegionInfo = r.leader
    ? { region: regionFromProto(r.region), leader: peerFromProto(r.leader) }
    : { region: regionFromProto(r.region) };
  const hot = (r.hot ?? []).filter((k): k is 'read' | 'write' => k === 'read' || k === 'write');
  return hot.length > 0 ? { ...info, hot } : info;
}

/** A Region as GetRegion(ByID) answers: with the peers its leader last reported unhealthy. */
export interface RegionLookup extends RegionInfo {
  /** Peers the leader has not heard from for max-peer-down-duration (absent: none). */
  downPeers?: DownPeerStat[];
  /** Peers whose log is behind the leader's first index (absent: none). */
  pendingPeers?: Peer[];
}

export interface DownPeerStat {
  peer: Peer;
  downSeconds: number;
}

export function regionLookupToProto(
  info: RegionInfo,
  stats: RegionStats | undefined,
): Omit<GetRegionResponse, 'header'> {
  return {
    ...regionInfoToProto(info),
    downPeers: (stats?.downPeers ?? []).map(downPeerToProto),
    pendingPeers: (stats?.pendingPeers ?? []).map(peerToProto),
  };
}

export function regionLookupFromProto(m: GetRegionResponse__Output): RegionLookup {
  const info: RegionLookup = regionInfoFromProto(m);
  const down = m.downPeers.filter((d) => d.peer).map(downPeerFromProto);
  if (down.length > 0) info.downPeers = down;
  if (m.pendingPeers.length > 0) info.pendingPeers = m.pendingPeers.map(peerFromProto);
  return info;
}

function downPeerToProto(d: DownPeerStat): PeerStats {
  return { peer: peerToProto(d.peer), downSeconds: toUint64(d.downSeconds) };
}

function downPeerFromProto(d: PeerStats__Output): DownPeerStat {
  return {
    peer: peerFromProto(d.peer!),
    downSeconds: uint64ToNumber(d.downSeconds, 'down_seconds'),
  };
}

export function regionHeartbeatToProto(hb: RegionHeartbeat): RegionHeartbeatRequest {
  const st = hb.stats ?? {};
  return {
    region: regionToProto(hb.region),
    leader: peerToProto(hb.leader),
    term: toUint64(hb.term ?? 0),
    approximateSize: toUint64(st.approximateSize ?? 0),
    approximateKeys: toUint64(st.approximateKeys ?? 0),
    bytesWritten: toUint64(st.writtenBytes ?? 0),
    keysWritten: toUint64(st.writtenKeys ?? 0),
    bytesRead: toUint64(st.readBytes ?? 0),
    keysRead: toUint64(st.readKeys ?? 0),
    intervalMs: toUint64(st.intervalMs ?? 0),
    downPeers: (st.downPeers ?? []).map(downPeerToProto),
    pendingPeers: (st.pendingPeers ?? []).map(peerToProto),
  };
}

export function regionHeartbeatFromProto(m: RegionHeartbeatRequest__Output): RegionHeartbeat {
  if (!m.region) throw new PdError(PdErrorCode.InvalidArgument, 'heartbeat without a region');
  if (!m.leader) throw new PdError(PdErrorCode.InvalidArgument, 'heartbeat without a leader');
  return {
    region: regionFromProto(m.region),
    leader: peerFromProto(m.leader),
    term: uint64ToNumber(m.term, 'term'),
    stats: {
      approximateSize: uint64ToNumber(m.approximateSize, 'approximate_size'),
      approximateKeys: uint64ToNumber(m.approximateKeys, 'approximate_keys'),
      ...flowFromProto(m),
      downPeers: m.downPeers.filter((d) => d.peer).map(downPeerFromProto),
      pendingPeers: m.pendingPeers.map(peerFromProto),
    },
  };
}

/** The load a leader reports; none when it sent no interval (a report between flows). */
function flowFromProto(m: RegionHeartbeatRequest__Output): Partial<RegionStats> {
  const intervalMs = uint64ToNumber(m.intervalMs, 'interval_ms');
  if (intervalMs === 0) return {};
  return {
    intervalMs,
    writtenBytes: uint64ToNumber(m.bytesWritten, 'bytes_written'),
    writtenKeys: uint64ToNumber(m.keysWritten, 'keys_written'),
    readBytes: uint64ToNumber(m.bytesRead, 'bytes_read'),
    readKeys: uint64ToNumber(m.keysRead, 'keys_read'),
  };
}
