// The campaigns of a store's bootstrapped Regions, paced (pd_worker.ts starts them).
//
// Each bootstrapped Region has one peer chosen to campaign at once (bootstrapLeaderStore);
// its other peers hold their elections meanwhile (RegionPeer.holdElections). With
// thousands of Regions on a store, starting every one of those campaigns together floods
// the other stores: the votes, then the new leaders' appends and heartbeats (four messages
// per Region per heartbeat interval, until the group may sleep) arrive faster than they
// are handled, answers come after the next election timeout, leaders lose check-quorum,
// and Regions campaign again and again — congestion collapse. So a store keeps at most
// `window` of its campaigns in flight, as a sender keeps a window of segments: a campaign
// leaves the window once its Region has a leader that has committed the entry of its
// term, or after `deadlineTicks` in any case. A campaign that ends so with no leader known
// (its votes were lost or came too late) goes to the back of the queue, up to `retries`
// times; after that its peer's hold retries it, much later. The window's rate follows the
// machine: a slow machine settles fewer Regions per second, and so starts fewer.
import { NONE } from '../raft/index.js';
import type { RegionPeer } from './peer.js';

export interface BootstrapCampaignOptions {
  /** Campaigns in flight at most. */
  window: number;
  /** Ticks after which a campaign leaves the window, settled or not. */
  deadlineTicks: number;
  /** Times a campaign that ended with no leader known is started again. */
  retries: number;
  /** Whether the peer is still the store's replica of its Region (not destroyed, not replaced). */
  hosted: (peer: RegionPeer) => boolean;
  /** Start the peer's campaign (RegionPeer.campaign, then its hold again). */
  campaign: (peer: RegionPeer) => void;
}

export class BootstrapCampaigns {
  private readonly waiting: RegionPeer[];
  private next = 0;
  /** Campaigned peers in the window, with the ticks since their campaign. */
  private readonly inFlight = new Map<RegionPeer, number>();
  /** Campaigns started per peer. */
  private readonly started = new Map<RegionPeer, number>();

  constructor(
    peers: readonly RegionPeer[],
    private readonly opts: BootstrapCampaignOptions,
  ) {
    if (opts.window < 1 || opts.deadlineTicks < 1 || opts.retries < 0)
      throw new Error(
        'bootstrap campaigns: window and deadlineTicks must be at least 1, retries at least 0',
      );
    this.waiting = [...peers];
  }

  /** Campaigns not yet started. */
  get pending(): number {
    return this.waiting.length - this.next;
  }

  get inFlightCount(): number {
    return this.inFlight.size;
  }

  get done(): boolean {
    return this.pending === 0 && this.inFlight.size === 0;
  }

  /** One tick: let settled and overdue campaigns go, then fill the window. */
  tick(): void {
    for (const [peer, ticks] of this.inFlight) {
      if (!this.opts.hosted(peer) || this.settled(peer)) this.inFlight.delete(peer);
      else if (ticks + 1 < this.opts.deadlineTicks) this.inFlight.set(peer, ticks + 1);
      else {
        this.inFlight.delete(peer);
        const lost = peer.node.raft.lead === NONE;
        if (lost && this.started.get(peer)! <= this.opts.retries) this.waiting.push(peer);
      }
    }
    this.fill();
  }

  /** Start campaigns until the window is full. */
  private fill(): void {
    while (this.inFlight.size < this.opts.window && this.next < this.waiting.length) {
      const peer = this.waiting[this.next++]!;
      // A Region that has heard of a leader meanwhile (another peer won) needs no campaign.
      if (!this.opts.hosted(peer) || peer.node.raft.lead !== NONE) continue;
      this.opts.campaign(peer);
      this.inFlight.set(peer, 0);
      this.started.set(peer, (this.started.get(peer) ?? 0) + 1);
    }
  }

  private settled(peer: RegionPeer): boolean {
    const raft = peer.node.raft;
    if (raft.lead === NONE) return false;
    // Another peer won (its store paces its own), or this one leads and has committed the
    // entry of its term (thesis §3.6.2): its election's work is done.
    if (raft.lead !== raft.id) return true;
    const log = raft.raftLog;
    return log.zeroTermOnOutOfBounds(log.committed) === raft.term;
  }
}
