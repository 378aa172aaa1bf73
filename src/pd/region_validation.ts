// Shape checks for a Region heartbeat, before PD compares it with its map: every number
// in range, every id one PD handed out, the peer list well formed and the leader one of
// its voters. A refusal here is InvalidArgument and changes nothing.
import { isVoterRole, type Peer, type Region } from '../region/meta.js';
import type { RegionStats } from './cluster.js';
import { PdError, PdErrorCode } from './errors.js';
import {
  MAX_EPOCH_COMPONENT,
  MAX_REGION_KEY_BYTES,
  MAX_REGION_PEERS,
  MAX_TERM,
} from './trust_limits.js';

/**
 * `idHighWater`: every id PD ever allocated is at or below it. Region and peer ids come
 * from PD's allocator (bootstrap, AllocID for splits and new peers), so a larger one was
 * invented. Store ids are checked against the store table by the caller.
 */
export function validateRegionHeartbeat(
  r: Region,
  leader: Peer,
  term: number | undefined,
  stats: RegionStats | undefined,
  idHighWater: number,
): asserts term is number {
  const bad = (msg: string) => new PdError(PdErrorCode.InvalidArgument, `region ${r.id}: ${msg}`);
  const isId = (n: number) => Number.isSafeInteger(n) && n >= 1 && n <= idHighWater;
  if (!isId(r.id)) throw bad(`id ${r.id} was never allocated by PD (<= ${idHighWater})`);
  // A Raft term starts at 1 once a leader exists; 0 means the sender did not say, and an
  // unknown term cannot be ordered against the leaders PD has already seen.
  if (term === undefined || !Number.isSafeInteger(term) || term < 1 || term > MAX_TERM) {
    throw bad(`term ${term ?? 'missing'} is not in 1..${MAX_TERM}`);
  }
  for (const [name, v] of [
    ['version', r.epoch.version],
    ['conf_ver', r.epoch.confVer],
  ] as const) {
    if (!Number.isSafeInteger(v) || v < 1 || v > MAX_EPOCH_COMPONENT) {
      throw bad(`epoch ${name} ${v} is not in 1..${MAX_EPOCH_COMPONENT}`);
    }
  }
  if (r.startKey.length > MAX_REGION_KEY_BYTES || r.endKey.length > MAX_REGION_KEY_BYTES) {
    throw bad(`a boundary key is longer than ${MAX_REGION_KEY_BYTES} bytes`);
  }
  if (r.endKey.length > 0 && Buffer.compare(r.startKey, r.endKey) >= 0) {
    throw bad('empty key range');
  }
  if (r.peers.length === 0) throw bad('no peers');
  if (r.peers.length > MAX_REGION_PEERS) {
    throw bad(`${r.peers.length} peers (at most ${MAX_REGION_PEERS})`);
  }
  const peerIds = new Set<number>();
  const storeIds = new Set<number>();
  for (const p of r.peers) {
    if (!isId(p.id)) throw bad(`peer id ${p.id} was never allocated by PD`);
    if (!Number.isSafeInteger(p.storeId) || p.storeId < 1) throw bad(`bad store id ${p.storeId}`);
    if (peerIds.has(p.id)) throw bad(`peer ${p.id} appears twice`);
    // A store hosts at most one replica of a Region (TiKV's rule too): two would share
    // one Region engine file and count twice toward a quorum that is really one disk.
    if (storeIds.has(p.storeId)) throw bad(`two peers on store ${p.storeId}`);
    peerIds.add(p.id);
    storeIds.add(p.storeId);
  }
  const lp = r.peers.find((p) => p.id === leader.id && p.storeId === leader.storeId);
  if (!lp) {
    throw bad(`leader peer ${leader.id} on store ${leader.storeId} is not one of its peers`);
  }
  // Learners do not vote, so they can never win an election.
  if (!isVoterRole(lp.role)) throw bad(`leader peer ${leader.id} is a learner`);
  const isPeer = (q: Peer) => r.peers.some((p) => p.id === q.id && p.storeId === q.storeId);
  const down = stats?.downPeers ?? [];
  const pending = stats?.pendingPeers ?? [];
  if (!down.every((d) => isPeer(d.peer)) || !pending.every(isPeer)) {
    throw bad('down or pending peers that are not its peers');
  }
  if (down.length > r.peers.length || pending.length > r.peers.length) {
    throw bad('more down or pending peers than peers');
  }
}
