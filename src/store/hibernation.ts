// Hibernate Regions (TiKV's hibernate_state.rs and tikv/rfcs 2019-03-04-hibernate-raft):
// an idle Region's Raft group stops ticking, so a store with thousands of idle Regions
// spends no CPU on their heartbeats and election timers.
//
// The negotiation, per Region:
//   1. A leader that has stayed quiescent (src/raft/quiescence.ts: everything committed,
//      applied and held by every peer; no transfer, read or membership change in flight),
//      idle (no request waiting in the peer, no split or merge step under way), with no
//      commit-only append held back for the next tick (held_commits.ts) and no new entry
//      for `idleTicks` ticks sends each follower
//      a HIBERNATE_REQUEST carrying its term and last index, again every
//      `requestEveryTicks` until all agreed.
//   2. A follower that follows that leader in that term with the same log, committed and
//      applied, answers HIBERNATE_ACK and stops ticking at once. If the leader never
//      sleeps (another follower disagreed), its next heartbeat wakes the follower again.
//   3. When every other peer of the Region acknowledged the same (term, index) while the
//      leader stayed quiescent, the leader stops ticking too.
// Anything wakes a sleeping peer: a Raft message (a leader's append or heartbeat, a
// vote), a proposal, a read, an admin command, a wake signal from a restarted peer. A
// merge wakes both Regions, on every store where it runs a step (merge_runner.ts). A
// woken leader's own messages (appends, the heartbeats of a ReadIndex round) wake its
// followers in turn.
//
// Why it is safe:
//   - A sleeping leader's lease is expired when it falls asleep (LeaderLease.expire: the
//     generation moves on, so no acknowledgement of anything sent earlier renews it). A
//     read on a sleeping Region wakes it and confirms leadership by a ReadIndex round;
//     only acknowledgements of what it sends after waking earn a lease again.
//   - A sleeping follower's election timer is frozen, not reset: it has heard from its
//     leader no more recently than before it slept, so its lease promise (no vote for
//     another candidate within an election timeout of the last leader message, thesis
//     §4.2.3) only lasts longer in real time. Sleeping makes followers more reluctant to
//     elect, never less.
//   - Liveness: a follower that hears nothing must still elect a new leader when the old
//     one is gone. It watches the leader's STORE (peer_store_liveness.ts): every store
//     that holds a sleeping peer heartbeats the stores of the other peers of its Region;
//     when the leader's store goes silent past storeDeadMs, its sleeping followers here
//     wake, tick, and campaign as Raft normally does.
//   - The same watch, the other way round, keeps down peers visible: a sleeping leader
//     hears nothing from its followers by design, so it could not tell PD that one of them
//     is gone (peer_liveness.ts stops its clocks while it sleeps). When a follower's store
//     goes silent, the leader wakes; its follower does not answer its heartbeats, so the
//     group cannot fall asleep again, and the leader's clocks report the peer down after
//     max-peer-down-duration, as for an awake Region.
import {
  MessageType,
  NONE,
  StateRole,
  followerMaySleep,
  isQuiescentLeader,
  leaderUnrest,
} from '../raft/index.js';
import type { RegionPeer } from './peer.js';
import { PeerStoreLiveness } from './peer_store_liveness.js';
import type { RaftEnvelope, RaftTransport } from './raft_store.js';
import type { StoreRuntime, TimerHandle } from './runtime.js';

/** Why a sleeping peer woke up (the label of nyx_raftstore_region_wakeups_total). */
export type WakeReason =
  | 'message'
  | 'proposal'
  | 'read'
  | 'admin'
  | 'leader-store-down'
  | 'follower-store-down'
  | 'peer-wake';

export const WAKE_REASONS: readonly WakeReason[] = [
  'message',
  'proposal',
  'read',
  'admin',
  'leader-store-down',
  'follower-store-down',
  'peer-wake',
];

export interface HibernationOptions {
  /** Ticks a leader stays quiescent and idle before it asks its followers to sleep. */
  idleTicks: number;
  /** Ticks between requests while some follower has not agreed yet. */
  requestEveryTicks: number;
  /** How often a store with sleeping peers heartbeats the stores of their Regions' other peers. */
  storeHeartbeatMs: number;
  /** Silence after which another store is taken as dead (peer_store_liveness.ts). */
  storeDeadMs: number;
  /** Told of every wake-up (metrics). */
  onWake?: (reason: WakeReason) => void;
  /** Where a leader that stays awake for long says why (its Region cannot rest). */
  log?: (obj: object, msg: string) => void;
}

/** A leader awake this many election timeouts (request rounds) says why, once. */
const RESTLESS_ROUNDS = 30;

/**
 * Defaults for a store ticking every tickMs with electionTicks per election timeout: a
 * leader sleeps after two idle election timeouts; store heartbeats four times per election
 * timeout; a store is dead after four election timeouts of silence (then the election
 * itself takes one or two more). A store taken for dead too early costs a wake-up storm
 * (every follower it leads ticks, campaigns and is turned back), so the margin is wide:
 * a loaded machine delays heartbeats by seconds.
 */
export function defaultHibernationOptions(
  tickMs: number,
  electionTicks: number,
): HibernationOptions {
  const electionMs = tickMs * electionTicks;
  return {
    idleTicks: 2 * electionTicks,
    requestEveryTicks: electionTicks,
    storeHeartbeatMs: Math.max(10, Math.floor(electionMs / 4)),
    storeDeadMs: 4 * electionMs,
  };
}

/** The outbound side hibernation needs: the Raft transport, plus store heartbeats. */
export type HibernationTransport = Pick<RaftTransport, 'send' | 'flush' | 'sendStoreHeartbeat'>;

/** A leader's negotiation: which followers agreed to sleep at (term, index). */
interface Negotiation {
  term: number;
  index: number;
  acks: Set<number>;
}

export class Hibernation {
  readonly liveness: PeerStoreLiveness;
  /** Ticks each awake leader here has not been at rest (for its log line). */
  private readonly restlessTicks = new Map<number, number>();
  /** Leaders being negotiated with their followers, by Region id. */
  private readonly negotiations = new Map<number, Negotiation>();
  /** Sleeping followers here, by the store of the leader they sleep with. */
  private readonly followersByLeaderStore = new Map<number, Set<RegionPeer>>();
  /** For each sleeping leader here, the stores of its followers (they need our heartbeats). */
  private readonly sleepingLeaderStores = new Map<RegionPeer, number[]>();
  private heartbeatTimer: TimerHandle | undefined;
  /** When checkLeaderStores last ran (to notice this store's own stalls). */
  private lastCheckAt: number | undefined;

  constructor(
    readonly storeId: number,
    private readonly peers: ReadonlyMap<number, RegionPeer>,
    private readonly transport: HibernationTransport,
    readonly opts: HibernationOptions,
    private readonly runtime: StoreRuntime,
    /**
     * Whether the store holds commit-only appends of this Region (held_commits.ts). They go
     * out on the next store tick; a group asleep by then would be woken by them (an append
     * is news to a sleeping follower), and a follower that has not had them does not know
     * the commit index it is asked to sleep at. So a leader holding any is not at rest.
     */
    private readonly holdsCommitNews: (regionId: number) => boolean = () => false,
  ) {
    if (opts.idleTicks < 1 || opts.requestEveryTicks < 1)
      throw new Error('hibernation: idleTicks and requestEveryTicks must be at least 1');
    this.liveness = new PeerStoreLiveness(opts.storeDeadMs, () => runtime.now());
  }

  /**
   * The store started: every loaded peer tells the other peers of its Region to wake (the
   * "a peer's restart wakes its group" rule), so that a group asleep while this store was
   * away hears from it now rather than after a pre-vote round; and store heartbeats begin.
   */
  start(): void {
    for (const p of this.peers.values()) {
      if (!p.isInitialized()) continue;
      for (const other of p.region.peers) {
        if (other.id !== p.peerId) this.signal(p, other.id, 'wake');
      }
    }
    this.transport.flush();
    this.heartbeatTimer = this.runtime.setRepeating(this.opts.storeHeartbeatMs, () =>
      this.heartbeatStores(),
    );
  }

  stop(): void {
    if (this.heartbeatTimer) this.runtime.clearTimer(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
  }

  /** Sleeping peers on this store (the hibernated Regions gauge). */
  asleepCount(): number {
    let n = 0;
    for (const p of this.peers.values()) if (p.asleep) n++;
    return n;
  }

  /** Wake `p` if it sleeps. */
  wake(p: RegionPeer, reason: WakeReason): void {
    if (!p.asleep) return;
    this.negotiations.delete(p.regionId);
    p.wakeUp();
    this.unindex(p);
    this.opts.onWake?.(reason);
  }

  /**
   * Wake `p` for a step that needs its whole group (a merge), and keep it from falling
   * asleep while the step lasts (its caller repeats this while it does). If it slept, its
   * peers are told to wake too, so that a follower woken here does not tick alone next to
   * a sleeping leader and campaign against it; if it is awake, a leader's idle count
   * starts over and any sleep negotiation is dropped.
   */
  wakeGroup(p: RegionPeer, reason: WakeReason): void {
    if (!p.asleep) {
      p.idleTicks = 0;
      this.negotiations.delete(p.regionId);
      return;
    }
    this.wake(p, reason);
    for (const other of p.region.peers) if (other.id !== p.peerId) this.signal(p, other.id, 'wake');
    this.transport.flush();
  }

  /**
   * Whether leader `p` is at rest: idle, quiescent (src/raft/quiescence.ts), no commit news
   * held back for its followers, and no merge or split step under way (peer.isIdle).
   */
  leaderAtRest(p: RegionPeer): boolean {
    return p.isIdle() && !this.holdsCommitNews(p.regionId) && isQuiescentLeader(p.node.raft);
  }

  /**
   * A Raft message for `p`, about to be stepped: it wakes a sleeping peer unless it only
   * echoes the rest the group sleeps in — at a sleeping leader, a follower's answer to
   * what the leader sent before it slept; at a sleeping follower, its own leader's
   * heartbeat that brings nothing new (sent before the leader had every ack, or during a
   * ReadIndex round of a leader woken alone). Waking on those would leave a follower
   * ticking next to a leader that sleeps, and campaigning after an election timeout.
   */
  onMessage(p: RegionPeer, env: RaftEnvelope): void {
    if (!p.asleep) return;
    const m = env.message;
    const raft = p.node.raft;
    if (m.term === raft.term && !m.reject) {
      if (
        raft.state === StateRole.Leader &&
        (m.type === MessageType.HeartbeatResp || m.type === MessageType.AppResp)
      )
        return;
      if (
        raft.state === StateRole.Follower &&
        m.type === MessageType.Heartbeat &&
        m.from === raft.lead &&
        m.commit <= raft.raftLog.committed
      )
        return;
    }
    this.wake(p, 'message');
  }

  /** The peer leaves the store (destroyed, replaced): forget it. */
  forget(p: RegionPeer): void {
    this.negotiations.delete(p.regionId);
    this.restlessTicks.delete(p.regionId);
    this.unindex(p);
  }

  /**
   * After a tick of an awake peer. A leader counts its quiescent, idle ticks and, past
   * idleTicks, asks its followers to sleep; anything else resets the count.
   */
  afterTick(p: RegionPeer): void {
    const raft = p.node.raft;
    const last = raft.raftLog.lastIndex();
    // A write proposed, committed and applied between two ticks leaves the group
    // quiescent at both: the moved last index is what shows it was not idle meanwhile.
    if (raft.state !== StateRole.Leader || !this.leaderAtRest(p) || p.idleIndex !== last) {
      if (raft.state === StateRole.Leader) this.restless(p, last);
      else this.restlessTicks.delete(p.regionId);
      p.idleTicks = 0;
      p.idleIndex = last;
      this.negotiations.delete(p.regionId);
      return;
    }
    this.restlessTicks.delete(p.regionId);
    p.idleTicks++;
    if (p.idleTicks < this.opts.idleTicks) return;
    const others = p.region.peers.filter((x) => x.id !== p.peerId);
    if (others.length === 0) {
      // A single replica has nobody to agree with: it sleeps once idle.
      this.sleepLeader(p);
      return;
    }
    const index = last;
    let n = this.negotiations.get(p.regionId);
    if (!n || n.term !== raft.term || n.index !== index) {
      n = { term: raft.term, index, acks: new Set() };
      this.negotiations.set(p.regionId, n);
    }
    // Every follower agreed, but the last ack came while the leader was not at rest (a
    // read, held commit news): it is at rest now, and no further ack will come to tell it.
    if (others.every((o) => n.acks.has(o.id))) {
      this.sleepLeader(p);
      return;
    }
    if ((p.idleTicks - this.opts.idleTicks) % this.opts.requestEveryTicks !== 0) return;
    if (p.idleTicks - this.opts.idleTicks === RESTLESS_ROUNDS * this.opts.requestEveryTicks)
      this.opts.log?.(
        {
          regionId: p.regionId,
          term: n.term,
          index: n.index,
          waitingFor: others.filter((o) => !n.acks.has(o.id)).map((o) => o.id),
        },
        'region at rest, but peers do not agree to sleep',
      );
    for (const o of others) if (!n.acks.has(o.id)) this.signal(p, o.id, 'request');
    this.transport.flush();
  }

  /** Leader `p` is awake and not at rest: after a long while, say why (once). */
  private restless(p: RegionPeer, last: number): void {
    const ticks = (this.restlessTicks.get(p.regionId) ?? 0) + 1;
    this.restlessTicks.set(p.regionId, ticks);
    if (ticks !== RESTLESS_ROUNDS * this.opts.requestEveryTicks || !this.opts.log) return;
    const why =
      leaderUnrest(p.node.raft) ??
      (!p.isIdle()
        ? 'requests or a split or merge step in the peer'
        : this.holdsCommitNews(p.regionId)
          ? 'commit news held'
          : p.idleIndex !== last
            ? 'new entries'
            : 'unknown');
    this.opts.log({ regionId: p.regionId, why }, 'leader cannot rest');
  }

  /**
   * A hibernation signal for `p`, already validated like any Raft message (the sender is
   * a member of the Region, on the store it names).
   */
  onSignal(p: RegionPeer, env: RaftEnvelope): void {
    const m = env.message;
    switch (env.hibernate) {
      case 'request': {
        // A request from a leader we do not agree with is simply not answered: the leader
        // keeps ticking, and its heartbeats bring us along.
        const raft = p.node.raft;
        if (p.asleep && raft.lead === m.from && raft.term === m.term) {
          this.signal(p, m.from, 'ack', m.commit); // a re-sent request: we are asleep already
          this.transport.flush();
          return;
        }
        if (!p.isIdle() || !followerMaySleep(raft, m.from, m.term, m.commit)) return;
        this.signal(p, m.from, 'ack', m.commit);
        this.transport.flush();
        this.sleepFollower(p, env.fromPeer.storeId);
        return;
      }
      case 'ack': {
        const n = this.negotiations.get(p.regionId);
        const raft = p.node.raft;
        if (!n || p.asleep || n.term !== m.term || n.index !== m.index) return;
        if (raft.term !== n.term || raft.raftLog.lastIndex() !== n.index) return;
        n.acks.add(m.from);
        const all = p.region.peers.every((x) => x.id === p.peerId || n.acks.has(x.id));
        // Quiescence is checked again: the ack may arrive after something moved.
        if (all && this.leaderAtRest(p)) this.sleepLeader(p);
        return;
      }
      case 'wake':
        this.wake(p, 'peer-wake');
        if (p.isLeader()) p.idleTicks = 0;
        return;
      default:
        throw new Error(`not a hibernation signal: ${String(env.hibernate)}`);
    }
  }

  /**
   * On every store tick: wake the sleeping followers whose leader's store went silent, and
   * the sleeping leaders one of whose followers' stores did.
   */
  checkPeerStores(): void {
    // After a stall of this store's own loop (a long turn, a blocked disk), what other
    // stores sent meanwhile still waits in the sockets: judge them only on the next tick,
    // once it has been read.
    const now = this.runtime.now();
    const last = this.lastCheckAt;
    this.lastCheckAt = now;
    if (last === undefined || now - last > this.opts.storeHeartbeatMs) return;
    for (const [storeId, followers] of this.followersByLeaderStore) {
      if (this.liveness.isAlive(storeId)) continue;
      for (const p of [...followers]) this.wake(p, 'leader-store-down');
    }
    for (const [p, stores] of [...this.sleepingLeaderStores]) {
      if (!stores.every((s) => this.liveness.isAlive(s))) this.wake(p, 'follower-store-down');
    }
  }

  private sleepLeader(p: RegionPeer): void {
    if (!this.leaderAtRest(p)) throw new Error(`region ${p.regionId}: a leader not at rest sleeps`);
    this.negotiations.delete(p.regionId);
    p.fallAsleep();
    const stores = [
      ...new Set(p.region.peers.filter((x) => x.id !== p.peerId).map((x) => x.storeId)),
    ];
    this.sleepingLeaderStores.set(p, stores);
  }

  private sleepFollower(p: RegionPeer, leaderStore: number): void {
    p.fallAsleep();
    p.sleepingWithStore = leaderStore;
    let s = this.followersByLeaderStore.get(leaderStore);
    if (!s) {
      s = new Set();
      this.followersByLeaderStore.set(leaderStore, s);
    }
    s.add(p);
  }

  private unindex(p: RegionPeer): void {
    this.sleepingLeaderStores.delete(p);
    const store = p.sleepingWithStore;
    if (store === NONE) return;
    p.sleepingWithStore = NONE;
    const s = this.followersByLeaderStore.get(store);
    if (!s) return;
    s.delete(p);
    if (s.size === 0) this.followersByLeaderStore.delete(store);
  }

  /**
   * Heartbeat the stores of our sleeping peers' groups: those of our sleeping leaders'
   * followers (so that they do not campaign) and those of our sleeping followers' leaders
   * (so that those leaders know their followers' store is alive). One message per store,
   * however many Regions sleep.
   */
  private heartbeatStores(): void {
    if (this.sleepingLeaderStores.size === 0 && this.followersByLeaderStore.size === 0) return;
    const stores = new Set<number>(this.followersByLeaderStore.keys());
    for (const list of this.sleepingLeaderStores.values()) for (const s of list) stores.add(s);
    stores.delete(this.storeId);
    if (stores.size > 0) this.transport.sendStoreHeartbeat?.([...stores]);
  }

  /**
   * Send a signal from `p` to its peer `to`: a Raft message of the sender's term, never
   * stepped by the receiver (raft_store.ts hands it here). A request names the leader's
   * last index in `commit` (a heartbeat's field, which the validator bounds by the
   * receiver's log); an ack names the agreed index in `index`.
   */
  private signal(p: RegionPeer, to: number, kind: 'request' | 'ack' | 'wake', index = 0): void {
    const toPeer = p.peerById(to);
    const fromPeer = p.peerById(p.peerId);
    if (!toPeer || !fromPeer) return;
    const raft = p.node.raft;
    const request = kind === 'request';
    this.transport.send({
      regionId: p.regionId,
      fromPeer,
      toPeer,
      epoch: { ...p.region.epoch },
      hibernate: kind,
      message: {
        type: request ? MessageType.Heartbeat : MessageType.HeartbeatResp,
        to,
        from: p.peerId,
        term: raft.term,
        logTerm: 0,
        index: kind === 'ack' ? index : 0,
        entries: [],
        commit: request ? raft.raftLog.lastIndex() : 0,
        reject: false,
        rejectHint: 0,
      },
    });
  }
}
