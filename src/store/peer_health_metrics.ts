// A store's gauges of unhealthy peers, counted over the Regions it leads (only a leader knows
// its followers' progress and when it last heard from them): TiKV's pending/down peer counts
// of the leaders it hosts. Computed at scrape time, from the same calls that fill the Region
// heartbeats, so the gauges and what PD is told agree.
import { Gauge, type Registry } from 'prom-client';
import type { DownPeer } from './peer_liveness.js';
import type { Peer } from '../region/meta.js';

/** What the gauges need of one hosted peer. */
export interface LeaderPeerHealth {
  isLeader(): boolean;
  pendingPeers(): Peer[];
}

export interface PeerHealthCounts {
  down: number;
  pending: number;
}

/** Down and pending peers over the peers that lead; `downPeersOf` is asked only of leaders. */
export function countUnhealthyPeers<P extends LeaderPeerHealth>(
  peers: Iterable<P>,
  downPeersOf: (p: P) => DownPeer[],
): PeerHealthCounts {
  let down = 0;
  let pending = 0;
  for (const p of peers) {
    if (!p.isLeader()) continue;
    down += downPeersOf(p).length;
    pending += p.pendingPeers().length;
  }
  return { down, pending };
}

export function registerPeerHealthGauges(registry: Registry, counts: () => PeerHealthCounts): void {
  new Gauge({
    name: 'nyx_raftstore_down_peers',
    help: 'Peers of the Regions this store leads that the leader has not heard from for max-peer-down-duration',
    registers: [registry],
    collect() {
      this.set(counts().down);
    },
  });
  new Gauge({
    name: 'nyx_raftstore_pending_peers',
    help: 'Peers of the Regions this store leads whose log is behind the leader’s first index (they need a snapshot) or that are being sent one',
    registers: [registry],
    collect() {
      this.set(counts().pending);
    },
  });
}
