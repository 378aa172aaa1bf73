// The store's background duties toward PD and its own disk, on timers outside the Raft
// loop: store heartbeats, region heartbeats (at once when a peer becomes leader, and
// periodically), creating the peers of Regions PD bootstrapped on this store, and Raft log
// garbage collection below what every Region engine has made durable.
import type { ConfigEntry } from '../pd/config/pd_config.js';
import { StateRole } from '../raft/index.js';
import { Peer, Region, findPeerOnStore } from '../region/meta.js';
import { RaftLogEngine } from '../storage/raft_log_engine.js';
import { RaftLogWriteBatch } from '../storage/raft_log_batch.js';
import { PeerLoader, INITIAL_LOG_INDEX } from './peer_loader.js';
import type { StoreClusterConfig } from './cluster_config.js';
import { RaftStore } from './raft_store.js';
import type { RegionPeer } from './peer.js';
import { downPeersKey, type DownPeer } from './peer_liveness.js';
import { StalePeerChecker } from './stale_peer.js';
import { BootstrapCampaigns } from './bootstrap_campaigns.js';
import type { FlowReport } from './region_flow.js';

/**
 * A sleeping leader (hibernation.ts) reports only every this many periodic rounds: nothing
 * about its Region changes while it sleeps (any change wakes it, and a new leader or a
 * changed Region is reported at once), and with thousands of idle Regions the periodic
 * reports are most of PD's load. PD does not age leaders out by report time.
 */
export const SLEEPING_REPORT_EVERY = 6;

function pendingKey(peers: Peer[]): string {
  return peers.map((p) => p.id).join(',');
}

/** Keeps the last reported set of a Region, or forgets it when empty. */
function remember(last: Map<number, string>, regionId: number, key: string): void {
  if (key === '') last.delete(regionId);
  else last.set(regionId, key);
}

/** What the store needs from PD (the PD client implements it). */
export interface StorePd {
  /**
   * Resolves to whether PD wants every Region heartbeat now (it restarted), and PD's
   * settings when their version differs from `configVersion`.
   */
  storeHeartbeat(
    storeId: number,
    stats: { regionCount: number; leaderCount: number; isBusy: boolean },
    configVersion: number,
  ): Promise<{
    requireRegionHeartbeats: boolean;
    config?: { version: number; entries: ConfigEntry[] };
  }>;
  regionHeartbeat(hb: {
    region: Region;
    leader: Peer;
    term: number;
    approximateKeys?: number;
    approximateSize?: number;
    /** Peers the leader cannot count on yet (peer.ts pendingPeers). */
    pendingPeers?: Peer[];
    /** Peers the leader has not heard from for max-peer-down-duration (peer_liveness.ts). */
    downPeers?: DownPeer[];
    /** Keys and bytes served since the previous report with flow (region_flow.ts). */
    flow?: FlowReport;
  }): void;
  /** PD's Region by id (stale peer checks); without it a removed peer waits for a message. */
  getRegionById?(id: number): Promise<Region | undefined>;
  scanRegions(
    start: Buffer,
    end: Buffer,
    limit: number,
  ): Promise<{ region: Region; leader?: Peer }[]>;
}

export interface PdWorkerConfig {
  storeHeartbeatMs: number;
  regionHeartbeatMs: number;
  /** How often to look for Regions bootstrapped on this store while it hosts none. */
  regionSyncMs: number;
  raftLogGcIntervalMs: number;
  /** Compact a Region's log once it holds more than this many applied, durable entries. */
  raftLogGcThreshold: number;
  /** How often followers that stopped hearing from a leader ask PD whether they were removed (0: never). */
  stalePeerCheckMs?: number;
  /** Ticks without a leader's message before a follower asks (default 40). */
  stalePeerTicks?: number;
  /**
   * How often Regions last reported with pending or down peers are looked at again, to
   * report at once when that changes (a learner caught up, a silent peer spoke); default 1 s.
   */
  peerHealthRecheckMs?: number;
}

export class PdWorker {
  private timers: NodeJS.Timeout[] = [];
  private lastLeaderTerm = new Map<number, number>();
  private periodicRounds = 0;
  private syncing = false;
  private stopped = false;
  /** Regions whose last report listed pending peers: reported again when that changes. */
  private readonly lastPending = new Map<number, string>();
  /** Likewise for down peers (TiKV reports at once when a down peer catches up). */
  private readonly lastDown = new Map<number, string>();
  private stalePeers: StalePeerChecker | undefined;
  /** Called once per (Region, term) this store leads, when it is first seen; for metrics. */
  onNewLeadership: () => void = () => undefined;

  constructor(
    private readonly storeId: number,
    private readonly pd: StorePd,
    private readonly store: RaftStore,
    private readonly loader: PeerLoader,
    private readonly logEngine: RaftLogEngine,
    private readonly cfg: PdWorkerConfig,
    private readonly log: (obj: object, msg: string) => void,
    private readonly clusterConfig: StoreClusterConfig,
    /** The store's monotonic clock (ms): how long a peer has been silent. */
    private readonly now: () => number = () => performance.now(),
  ) {}

  start(): void {
    const every = (ms: number, f: () => void) => {
      const t = setInterval(f, ms);
      t.unref();
      this.timers.push(t);
    };
    every(this.cfg.storeHeartbeatMs, () => void this.storeHeartbeat());
    every(this.cfg.regionHeartbeatMs, () => this.regionHeartbeats(true, false));
    every(this.cfg.raftLogGcIntervalMs, () => this.gcRaftLogs());
    every(this.cfg.regionSyncMs, () => void this.syncBootstrapRegions());
    every(this.cfg.peerHealthRecheckMs ?? 1000, () => this.recheckPeerHealth());
    const getRegion = this.pd.getRegionById?.bind(this.pd);
    if (getRegion && this.cfg.stalePeerCheckMs) {
      this.stalePeers = new StalePeerChecker(
        this.store,
        getRegion,
        this.cfg.stalePeerTicks ?? 40,
        this.log,
      );
      const checker = this.stalePeers;
      every(this.cfg.stalePeerCheckMs, () => void checker.check());
    }
    void this.storeHeartbeat();
    void this.syncBootstrapRegions();
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
  }

  /**
   * Called after loop turns: report new leaders right away so clients find them, and
   * Regions whose pending peers changed (a learner caught up: PD may promote it now).
   */
  onLeadershipMaybeChanged(): void {
    this.regionHeartbeats(false);
    this.recheckPeerHealth();
  }

  /**
   * Reports the Regions whose pending or down peers differ from their last report. Only
   * Regions reported with some are looked at: a peer becomes down by time passing, which the
   * periodic heartbeat picks up (as TiKV's PD heartbeat tick does).
   */
  recheckPeerHealth(): void {
    const ids = new Set([...this.lastPending.keys(), ...this.lastDown.keys()]);
    for (const regionId of ids) {
      const p = this.store.peers.get(regionId);
      if (!p || !p.isLeader()) {
        this.lastPending.delete(regionId);
        this.lastDown.delete(regionId);
        continue;
      }
      const pending = pendingKey(p.pendingPeers());
      const down = downPeersKey(this.downPeersOf(p));
      if (pending !== (this.lastPending.get(regionId) ?? '')) this.report(p);
      else if (down !== (this.lastDown.get(regionId) ?? '')) this.report(p);
    }
  }

  /** The peers `p` (a leader) has not heard from for max-peer-down-duration. */
  downPeersOf(p: RegionPeer): DownPeer[] {
    const maxDownMs = this.clusterConfig.get('max-peer-down-duration');
    return p.liveness.downPeers(p.region.peers, p.peerId, this.now(), maxDownMs);
  }

  /** Report one Region this store leads now (after a conf change applied, say). */
  report(p: RegionPeer): void {
    const leader = p.peerById(p.peerId);
    if (!leader || !p.isLeader()) return;
    const pendingPeers = p.pendingPeers();
    const downPeers = this.downPeersOf(p);
    remember(this.lastPending, p.regionId, pendingKey(pendingPeers));
    remember(this.lastDown, p.regionId, downPeersKey(downPeers));
    // Reports in between periodic ones (a new leader, a conf change, a peer's health
    // changing) leave the flow to accumulate, so every rate PD derives spans about a
    // heartbeat interval.
    const flow = this.store.flow.takeReport(p.regionId, this.cfg.regionHeartbeatMs / 2);
    try {
      this.pd.regionHeartbeat({
        region: p.region,
        leader,
        term: p.node.raft.term,
        ...(pendingPeers.length > 0 ? { pendingPeers } : {}),
        ...(downPeers.length > 0 ? { downPeers } : {}),
        ...(p.sizeEstimate
          ? { approximateSize: p.sizeEstimate.bytes, approximateKeys: p.sizeEstimate.keys }
          : {}),
        ...(flow ? { flow } : {}),
      });
    } catch (e) {
      this.log({ err: (e as Error).message, regionId: p.regionId }, 'region heartbeat failed');
    }
  }

  private async storeHeartbeat(): Promise<void> {
    let leaders = 0;
    for (const p of this.store.peers.values()) if (p.isLeader()) leaders++;
    try {
      const res = await this.pd.storeHeartbeat(
        this.storeId,
        { regionCount: this.store.peers.size, leaderCount: leaders, isBusy: false },
        this.clusterConfig.version,
      );
      if (res.config) this.applyConfig(res.config.version, res.config.entries);
      if (res.requireRegionHeartbeats) this.regionHeartbeats(true, true);
    } catch (e) {
      this.log({ err: (e as Error).message }, 'store heartbeat failed');
    }
  }

  private applyConfig(version: number, entries: ConfigEntry[]): void {
    const from = this.clusterConfig.version;
    const { changed, skipped } = this.clusterConfig.apply(version, entries);
    const values = this.clusterConfig.values;
    this.log(
      {
        from,
        version,
        changed: Object.fromEntries(changed.map((n) => [n, values[n]])),
        ...(skipped.length > 0 ? { skipped } : {}),
      },
      'config from PD applied',
    );
  }

  /**
   * Heartbeat the Regions this store leads: all of them (sleeping ones only every
   * SLEEPING_REPORT_EVERY rounds, unless `evenSleeping`), or only new leaderships.
   */
  private regionHeartbeats(all: boolean, evenSleeping = true): void {
    const sleepingToo = evenSleeping || ++this.periodicRounds % SLEEPING_REPORT_EVERY === 0;
    if (all) this.store.flow.retain((id) => this.store.peers.has(id));
    for (const p of this.store.peers.values()) {
      const raft = p.node.raft;
      if (raft.state !== StateRole.Leader) {
        this.lastLeaderTerm.delete(p.regionId);
        continue;
      }
      const known = this.lastLeaderTerm.get(p.regionId) === raft.term;
      if (!all && known) continue;
      if (known && p.asleep && !sleepingToo) continue;
      if (!known) this.onNewLeadership();
      this.lastLeaderTerm.set(p.regionId, raft.term);
      this.report(p);
    }
  }

  /**
   * Regions are created by PD's bootstrap; a store learns the ones it holds a replica of by
   * asking, until it hosts an initialized peer. Only Regions still at their initial epoch
   * are created this way — a peer added later by a membership change is created by the
   * Raft messages of its Region. A placeholder that a message of another store's replica
   * made here first (a vote: that store created its peers sooner) is replaced by the
   * initial peer, as a split replaces one, keeping any vote it cast (createInitialPeers);
   * left alone, it would wait for a snapshot of a Region that holds nothing.
   */
  private async syncBootstrapRegions(): Promise<void> {
    if (this.syncing || this.stopped || this.hostsInitializedPeer()) return;
    this.syncing = true;
    try {
      const all = (await this.pd.scanRegions(Buffer.alloc(0), Buffer.alloc(0), 0)).map(
        (info) => info.region,
      );
      if (this.stopped) return;
      const regions = all.filter(
        (r) =>
          !this.store.peers.get(r.id)?.isInitialized() &&
          findPeerOnStore(r, this.storeId) !== undefined &&
          r.epoch.confVer === 1 &&
          r.epoch.version === 1,
      );
      for (const r of regions) this.store.dropPlaceholder(r.id);
      // All at once (one directory sync, one log write), without serving the loop between:
      // a message of another store's replica handled meanwhile would make a placeholder
      // here that then waits for a snapshot instead of starting from the initial state.
      const created = this.loader.createInitialPeers(regions);
      const leads = new Set(all.filter((r, i) => bootstrapLeaderStore(r, i) === this.storeId));
      const hold = (peer: RegionPeer) =>
        peer.holdElections(bootstrapElectionDelay(created.length, peer.node.raft.electionTimeout));
      for (const peer of created) {
        this.store.addPeer(peer);
        hold(peer);
      }
      if (regions.length > 0)
        this.log(
          { regions: regions.length, first: regions[0]!.id, last: regions.at(-1)!.id },
          'created peers of bootstrapped regions',
        );
      // The campaigns go out once the links to the other stores are up: the first messages
      // to a store whose address is still being looked up are lost.
      const others = new Set(regions.flatMap((r) => r.peers.map((p) => p.storeId)));
      others.delete(this.storeId);
      await this.store.connectStores([...others]);
      if (this.stopped || created.length === 0) return;
      const electionTicks = created[0]!.node.raft.electionTimeout;
      const campaigns = new BootstrapCampaigns(
        created.filter((_, i) => leads.has(regions[i]!)),
        {
          window: BOOTSTRAP_CAMPAIGN_WINDOW,
          deadlineTicks: electionTicks,
          retries: BOOTSTRAP_CAMPAIGN_RETRIES,
          hosted: (peer) => this.store.peers.get(peer.regionId) === peer,
          campaign: (peer) => {
            peer.campaign();
            hold(peer); // a campaign restarts the count: wait again before the next one
          },
        },
      );
      const stopPacing = this.store.everyTick(() => {
        campaigns.tick();
        if (campaigns.done) stopPacing();
      });
    } catch (e) {
      this.log({ err: (e as Error).message }, 'region sync with PD failed');
    } finally {
      this.syncing = false;
    }
  }

  private hostsInitializedPeer(): boolean {
    for (const p of this.store.peers.values()) if (p.isInitialized()) return true;
    return false;
  }

  /**
   * Raft log GC: a Region's log may be compacted only below an apply state that is durable
   * in its engine (flush() checkpoints the engine's WAL); replay after a crash starts there.
   */
  gcRaftLogs(): void {
    const batch = new RaftLogWriteBatch();
    for (const p of this.store.peers.values()) {
      // A fenced merge source keeps its log: a CommitMerge proposed on this store carries
      // its entries after the fence's minIndex (merge_propose.ts).
      if (p.merging()) continue;
      const view = p.logStorage;
      // Nothing to compact unless the log is long: then the engine need not be opened
      // (flush() opens it), which with thousands of idle Regions is most of this pass.
      if (view.lastIndex() - view.firstIndex() + 1 <= this.cfg.raftLogGcThreshold) continue;
      const durable = p.engine.flush().appliedIndex;
      if (durable <= INITIAL_LOG_INDEX) continue;
      if (durable - view.firstIndex() + 1 <= this.cfg.raftLogGcThreshold) continue;
      batch.compact(p.regionId, durable);
    }
    if (batch.ops.length === 0) return;
    this.logEngine.write(batch);
    this.log({ regions: batch.regionIds() }, 'raft log compacted');
  }
}

/**
 * The store whose peer of the `index`-th bootstrapped Region (in key order) campaigns at
 * once: the Region's stores in turn, so that every store starts with its share of the
 * leaders. Without it every replica of thousands of new Regions waits out its election
 * timeout and campaigns; the stores then drown in one another's votes, which arrive after
 * the next timeout, and terms climb with no Region elected. With it each Region elects in
 * one round, as a split's new Region does (split_runner.ts). All stores see the same list
 * from PD, so they agree on the one; if they did not, the Region merely elects as usual.
 */
export function bootstrapLeaderStore(region: Region, index: number): number {
  const stores = region.peers.map((p) => p.storeId).sort((a, b) => a - b);
  return stores[index % stores.length]!;
}

/**
 * Campaigns of bootstrapped Regions a store keeps in flight (bootstrap_campaigns.ts): enough
 * that 1,000 Regions start in a few rounds, few enough that their awake groups' heartbeats
 * leave a small machine room for the elections themselves.
 */
export const BOOTSTRAP_CAMPAIGN_WINDOW = 500;
/** Times a bootstrap campaign that found no leader within an election timeout is retried. */
export const BOOTSTRAP_CAMPAIGN_RETRIES = 3;

/**
 * Ticks the peers of bootstrapped Regions wait before campaigning (again) on their own,
 * doubled after each campaign that won nothing (RegionPeer.holdElections): three election
 * timeouts per thousand Regions made at once. The designated campaigns are paced
 * (bootstrap_campaigns.ts), and a peer whose Region's turn has not come yet must not
 * start one of its own: a store on a small machine carries about a thousand elections
 * through in one or two election timeouts.
 */
export function bootstrapElectionDelay(regions: number, electionTicks: number): number {
  return Math.ceil(regions / 1000) * 3 * electionTicks;
}
