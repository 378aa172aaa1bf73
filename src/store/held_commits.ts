// Commit-only appends a leader holds back. When a leader commits, Raft broadcasts an empty
// append to every follower only to tell it the new commit index (etcd/raft's bcastAppend
// after maybeCommit). Nothing waits for that news: the client is answered by the leader,
// and a follower that learns the commit later only applies later. Sent at once, it costs
// every follower one more message, turn and apply per write and the leader one more
// response to read, per follower: at concurrency 1 half of a follower's work per put.
//
// So the store holds it: the next append to that follower (which carries the leader's
// commit index, and follows at once under load) replaces it, and whatever is still held
// at the next tick is sent then, so an idle follower learns the commit within one tick
// (heartbeats, which carry it too, come every heartbeat-ticks). An empty append is held
// only when it is nothing but commit news: to a follower in Replicate state whose
// inflight window is not full (a full window's empty append is a probe that must go out)
// and that has been sent everything, so holding it withholds no entry and no probe. The
// store looks at the progress after the whole Ready was made: an append that started at
// the follower's next index then may start below it, when a later message of the same
// Ready sent it entries (a proposal right after a commit). That append carries the commit
// too and supersedes the held one as it goes out. Raft's safety never rests on a message
// arriving.
import { Message, MessageType, ProgressState } from '../raft/index.js';
import type { RaftEnvelope } from './raft_store.js';
import type { RegionPeer } from './peer.js';

export class HeldCommits {
  /** By Region, then by the follower's peer id: the latest commit-only append. */
  private readonly held = new Map<number, Map<number, RaftEnvelope>>();

  /** Whether `m`, which `leader` is about to send, is only commit news (hold it then). */
  static isCommitOnly(leader: RegionPeer, m: Message): boolean {
    if (m.type !== MessageType.App || m.entries.length > 0) return false;
    const pr = leader.node.raft.trk.progress.get(m.to);
    return (
      pr !== undefined &&
      pr.state === ProgressState.Replicate &&
      !pr.inflights.full() &&
      m.index <= pr.next - 1
    );
  }

  hold(env: RaftEnvelope): void {
    let byPeer = this.held.get(env.regionId);
    if (!byPeer) this.held.set(env.regionId, (byPeer = new Map()));
    byPeer.set(env.toPeer.id, env);
  }

  /** Whether commit news of this Region is held (its group must not go to sleep yet). */
  has(regionId: number): boolean {
    return this.held.has(regionId);
  }

  /** An append to the same follower is being sent: it carries the commit index too. */
  supersede(env: RaftEnvelope): void {
    if (env.message.type !== MessageType.App) return;
    const byPeer = this.held.get(env.regionId);
    if (!byPeer?.delete(env.toPeer.id)) return;
    if (byPeer.size === 0) this.held.delete(env.regionId);
  }

  /** Everything held, to send now; nothing is held afterwards. */
  takeAll(): RaftEnvelope[] {
    if (this.held.size === 0) return [];
    const out: RaftEnvelope[] = [];
    for (const byPeer of this.held.values()) out.push(...byPeer.values());
    this.held.clear();
    return out;
  }

  /** The Region's peer left this store: its held news goes nowhere. */
  forget(regionId: number): void {
    this.held.delete(regionId);
  }
}
