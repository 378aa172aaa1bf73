// When a Region's leader last heard from each of its peers, and which of them are down: silent
// for max-peer-down-duration. After TiKV's raftstore (peer.rs: `peer_heartbeats`, filled on
// every message a leader steps, and `collect_down_peers`, read on each PD heartbeat): the
// leader reports the down peers with their silent seconds in its Region heartbeat, and PD
// shows them and decides whether to re-make them elsewhere (replica_checker.ts).
//
// Any message from a peer counts — an append or heartbeat response, a vote, a ReadIndex
// answer — since each proves the peer's store runs and reaches us. Time is the store's
// monotonic clock, passed in by the caller: the Raft core (src/raft/) stays pure, and a
// wall-clock step never makes a peer look down.
//
// The clocks run only while this peer leads, and only for the term it leads in. A new
// leader knows nothing of when its predecessor last heard from anyone, so it starts every
// peer's clock afresh (TiKV clears `peer_heartbeats` when a peer stops leading and refills it
// with "now"): right after a leader change no peer is reported down, and a dead one is
// reported again max-peer-down-duration later. A peer this leader has not heard from yet
// (just elected, or just added by a conf change) has its clock started when the leader first
// looks at it: a message from it, or the Region heartbeat that follows an election or a conf
// change at once. Never earlier than the election, so never a false "down".
//
// Hibernation: a sleeping Region exchanges no messages, so its leader hears nothing by
// design, and every peer would turn "down" (TiKV #10017 was this very bug). The leadership
// predicate is where sleep belongs: a leader that sleeps does not lead for these clocks
// (`leaderTerm` answers undefined), so nothing is reported while it sleeps and every clock
// starts afresh when it wakes, as after an election.
import type { Peer } from '../region/meta.js';

export interface DownPeer {
  peer: Peer;
  /** Whole seconds since the leader last heard from it (at least max-peer-down-duration). */
  downSeconds: number;
}

export class PeerLiveness {
  /** The term the clocks belong to; undefined while this peer does not lead. */
  private term: number | undefined;
  /** Peer id -> when the leader last heard from it (ms on the store's monotonic clock). */
  private readonly lastHeard = new Map<number, number>();

  /**
   * `leaderTerm`: the term this peer leads in now; undefined when it does not lead (or, once
   * Regions can sleep, while its Region sleeps — see above).
   */
  constructor(private readonly leaderTerm: () => number | undefined) {}

  /** A validated message from `peerId` was stepped at `nowMs`. */
  heard(peerId: number, nowMs: number): void {
    if (!this.follow()) return;
    this.lastHeard.set(peerId, nowMs);
  }

  /**
   * The peers of `peers` other than `selfId` not heard from for at least `maxDownMs`, for the
   * Region heartbeat; none unless this peer leads. Starts the clock of a peer seen for the
   * first time in this term, and forgets peers no longer in the Region.
   */
  downPeers(peers: readonly Peer[], selfId: number, nowMs: number, maxDownMs: number): DownPeer[] {
    if (!(maxDownMs > 0)) throw new RangeError(`max peer down duration ${maxDownMs} ms`);
    if (!this.follow()) return [];
    const down: DownPeer[] = [];
    for (const p of peers) {
      if (p.id === selfId) continue;
      const at = this.lastHeard.get(p.id);
      if (at === undefined) {
        this.lastHeard.set(p.id, nowMs);
        continue;
      }
      // The clock is monotonic; a negative gap would be a caller passing another clock.
      const silentMs = nowMs - at;
      if (silentMs < 0) throw new Error(`peer ${p.id} heard at ${at}, after now (${nowMs})`);
      if (silentMs >= maxDownMs) down.push({ peer: p, downSeconds: Math.floor(silentMs / 1000) });
    }
    if (this.lastHeard.size > peers.length - 1) {
      for (const id of this.lastHeard.keys())
        if (!peers.some((p) => p.id === id)) this.lastHeard.delete(id);
    }
    return down;
  }

  /** Follows the leadership: clears the clocks when it ends or a new term begins. */
  private follow(): boolean {
    const term = this.leaderTerm();
    if (term === undefined) {
      if (this.term !== undefined) {
        this.term = undefined;
        this.lastHeard.clear();
      }
      return false;
    }
    if (term !== this.term) {
      this.term = term;
      this.lastHeard.clear();
    }
    return true;
  }
}

/** A stable key of a list of down peers' ids, to notice when the set changes. */
export function downPeersKey(down: readonly DownPeer[]): string {
  return down.map((d) => d.peer.id).join(',');
}
