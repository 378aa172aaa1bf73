// The peers of a store that have work, kept as they get it (RegionPeer.dirty = true
// tells the set), so a loop turn visits those peers only: with many Regions, a turn
// that scanned every peer cost time in proportion to the Regions hosted, not to the work
// (TiKV's raftstore likewise polls only the FSMs that received messages).
import type { RegionPeer } from './peer.js';

export class DirtyPeers {
  private set = new Set<RegionPeer>();

  /** Register a peer: it reports work from now on; work it has already is taken now. */
  track(peer: RegionPeer): void {
    peer.onDirty = (p) => this.set.add(p);
    if (peer.dirty) this.set.add(peer);
  }

  /**
   * The peers that reported work since the last call, in the order they reported it,
   * that are still dirty; the set starts empty again (work reported while the caller
   * handles these lands in the next call).
   */
  take(): RegionPeer[] {
    if (this.set.size === 0) return [];
    const taken = this.set;
    this.set = new Set();
    const out: RegionPeer[] = [];
    for (const p of taken) if (p.dirty) out.push(p);
    return out;
  }

  get size(): number {
    return this.set.size;
  }
}
