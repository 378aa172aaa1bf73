// The PD's view of the cluster: stores, the Region map and who leads each Region. Its one
// job is to apply heartbeats and answer lookups; scheduling decisions live elsewhere.
// Transport-free: the gRPC service calls these methods and maps PdError codes to replies.
//
// What is durable (via PdMetaStore) and what is not:
//  - stores and Region metadata (range, epoch, peers) are persisted as they change;
//  - Region leaders, terms and all statistics are volatile and rebuilt from heartbeats,
//    as PD does: persisting a leader change per election would buy nothing, since the
//    next heartbeat tells the truth anyway.
//
// Trust. Every request may be hostile or buggy, so each is checked before anything
// changes, and a refused request changes nothing (memory or disk). The checks take an
// optional CallerIdentity: with mTLS it is the store named by the caller's certificate,
// and then only a store may change its own record and report Regions it leads. In
// plaintext mode there is no identity, and PD falls back to rules that hold whoever the
// caller is: bounded, well-formed input; epochs and terms that a real leader could have
// reached; no change of a live store's record. What plaintext CANNOT prevent: a caller
// that pretends to be a store, reports a plausible epoch one step ahead of the real one
// (e.g. a fake split of a Region it claims to host) or registers a store with a new id.
// Such a report is bounded, and every later real report that is newer repairs it, but
// only authentication keeps it out. See trust_limits.ts for the numbers.

import {
  cloneRegion,
  epochEqual,
  type Peer,
  type Region,
  type RegionId,
  type StoreId,
} from '../region/meta.js';
import { PdError, PdErrorCode } from './errors.js';
import type { CallerIdentity } from './identity.js';
import type { IdAllocator } from './id_allocator.js';
import { buildInitialRegions, layoutSplitKeys, type InitialLayout } from './initial_regions.js';
import type { PdMetaStore } from './meta_store.js';
import {
  formatRaftTiming,
  sameRaftTiming,
  validateRaftTiming,
  type RaftTiming,
} from './raft_timing.js';
import { RegionTree } from './region_tree.js';
import { allocSplitIds, type SplitIds } from './split.js';
import { validateRegionHeartbeat } from './region_validation.js';
import { validateLabels, validateStoreAddress } from './store_validation.js';
import {
  EPOCH_STEP_BASE,
  EPOCH_STEP_PER_SECOND,
  LEADER_TERM_TTL_MS,
  MAX_STORES,
  STORE_ALIVE_MS,
  STORE_HEARTBEAT_PERSIST_MS,
} from './trust_limits.js';
import {
  cloneStore,
  StoreState,
  type StoreLabel,
  type StoreMeta,
  type StoreStats,
} from './types.js';

export const DEFAULT_INITIAL_STORES = 3;

export interface ClusterOptions {
  /** Bootstrap waits for this many Up stores; each initial Region gets a peer on each. */
  initialStores?: number;
  /** The layout bootstrap uses when none is passed; default: one Region for all keys. */
  initialLayout?: InitialLayout;
  /** Wall-clock ms, for store heartbeat times and the trust windows. */
  now?: () => number;
  /** The most stores PD registers (tombstones included); default MAX_STORES. */
  maxStores?: number;
}

export interface PutStoreRequest {
  id: StoreId;
  address: string;
  statusAddress?: string;
  labels?: StoreLabel[];
  /** The store's Raft timing; cluster-wide (see raft_timing.ts). Absent: not checked. */
  raftTiming?: RaftTiming;
}

/** Leader-reported, volatile facts about a Region. */
export interface RegionStats {
  approximateSize?: number;
  approximateKeys?: number;
  /** Load served since the leader's previous report with flow, over intervalMs. */
  writtenBytes?: number;
  readBytes?: number;
  writtenKeys?: number;
  readKeys?: number;
  intervalMs?: number;
  /** Peers that have not answered the leader for a while. */
  downPeers?: { peer: Peer; downSeconds: number }[];
  /** Peers whose logs lag far behind the leader's. */
  pendingPeers?: Peer[];
}

export interface RegionHeartbeat {
  region: Region;
  /** The reporting peer, which is the Region's leader. */
  leader: Peer;
  /** The leader's Raft term, >= 1; a report without one is refused. */
  term?: number;
  stats?: RegionStats;
}

export interface RegionHeartbeatResult {
  /** Range, epoch or peers differed from what PD had, and the change was persisted. */
  changed: boolean;
  /** Ids of regions this one replaced (split parents, merge sources, stale overlaps). */
  replaced: RegionId[];
  /** Those of them this one covers whole: merge sources it took in. */
  merged?: RegionId[];
}

/** A Region as PD answers lookups with it: a copy, with its leader if one has reported. */
export interface RegionInfo {
  region: Region;
  leader?: Peer;
  /** In ScanRegions answers: what PD counts it hot for now (schedule/hot_stats.ts). */
  hot?: ('read' | 'write')[];
}

export interface StoreCounts {
  regionCount: number;
  leaderCount: number;
}

interface LeaderInfo {
  peer: Peer;
  term: number;
  /** When this leader last reported (ms); its term gates older ones only while fresh. */
  heardAtMs: number;
}

export class PdCluster {
  private readonly stores = new Map<StoreId, StoreMeta>();
  private readonly storeStats = new Map<StoreId, StoreStats>();
  /** Each store's heartbeat time as the meta store holds it (written at most so often). */
  private readonly persistedHeartbeatMs = new Map<StoreId, number>();
  private readonly tree = new RegionTree();
  private readonly leaders = new Map<RegionId, LeaderInfo>();
  private readonly regionStats = new Map<RegionId, RegionStats>();
  private readonly counts = new Map<StoreId, StoreCounts>();
  /** When PD last accepted a heartbeat of each Region (ms); PD's start for loaded ones. */
  private readonly heardAt = new Map<RegionId, number>();
  private raftTiming: RaftTiming | undefined;
  private bootstrapped: boolean;
  readonly initialStores: number;
  private readonly maxStores: number;
  private readonly initialLayout: InitialLayout;
  private readonly now: () => number;
  /** Told every accepted Region heartbeat's load (PD's hot Region statistics). */
  onRegionLoad:
    | ((region: Region, leader: Peer, stats: RegionStats | undefined, nowMs: number) => void)
    | undefined;

  /** Restores stores, Regions and the bootstrapped flag from the meta store. */
  constructor(
    private readonly meta: PdMetaStore,
    private readonly ids: IdAllocator,
    opts: ClusterOptions = {},
  ) {
    this.initialStores = opts.initialStores ?? DEFAULT_INITIAL_STORES;
    if (!Number.isInteger(this.initialStores) || this.initialStores < 1) {
      throw new RangeError(`initialStores must be a positive integer, got ${this.initialStores}`);
    }
    this.initialLayout = opts.initialLayout ?? { evenSplits: 1 };
    this.now = opts.now ?? Date.now;
    this.maxStores = opts.maxStores ?? MAX_STORES;
    for (const s of meta.loadStores()) {
      this.stores.set(s.id, s);
      this.persistedHeartbeatMs.set(s.id, s.lastHeartbeatMs);
    }
    const startedAt = this.now();
    for (const r of meta.loadRegions()) {
      this.attach(r, undefined);
      this.heardAt.set(r.id, startedAt);
    }
    this.raftTiming = meta.loadRaftTiming();
    this.bootstrapped = meta.isBootstrapped();
  }

  get clusterId(): number {
    return this.meta.clusterId;
  }

  allocId(): number {
    return this.ids.alloc();
  }

  // --- stores ---

  /**
   * Registers a store or updates its addresses and labels. Tombstoned ids stay dead, and
   * two live stores may not share an address (a restarted store must reuse its own id).
   *
   * Who may change a record: with an identity, only the store itself. In plaintext, anyone
   * may register a new id (that is how stores join), but the record of a store that is
   * alive (heartbeated within STORE_ALIVE_MS) may not change: otherwise one call could
   * redirect its traffic. A store that really moved re-registers once its old process
   * has been silent that long. Plaintext cannot stop a caller from changing the record
   * of a store that is down, nor from keeping a dead store "alive" with forged heartbeats.
   */
  putStore(req: PutStoreRequest, identity?: CallerIdentity): StoreMeta {
    if (!Number.isSafeInteger(req.id) || req.id <= 0) {
      throw new PdError(PdErrorCode.InvalidArgument, `bad store id ${req.id}`);
    }
    if (identity && identity.storeId !== req.id) {
      throw new PdError(
        PdErrorCode.PermissionDenied,
        `store ${identity.storeId} may not register or change store ${req.id}`,
      );
    }
    validateStoreAddress(req.address, 'store address');
    if (req.statusAddress) validateStoreAddress(req.statusAddress, 'status address');
    const labels = (req.labels ?? []).map((l) => ({ key: l.key, value: l.value }));
    validateLabels(labels);
    if (req.raftTiming) this.checkRaftTiming(req.id, req.raftTiming);
    const old = this.stores.get(req.id);
    if (old?.state === StoreState.Tombstone) {
      throw tombstoneError(req.id);
    }
    if (!old && this.stores.size >= this.maxStores) {
      throw new PdError(
        PdErrorCode.LimitExceeded,
        `${this.stores.size} stores are registered, the most PD keeps`,
      );
    }
    for (const s of this.stores.values()) {
      if (s.id !== req.id && s.state !== StoreState.Tombstone && s.address === req.address) {
        throw new PdError(
          PdErrorCode.DuplicateAddress,
          `address ${req.address} is already used by store ${s.id}`,
        );
      }
    }
    const store: StoreMeta = {
      id: req.id,
      address: req.address,
      statusAddress: req.statusAddress ?? '',
      state: old?.state ?? StoreState.Up,
      labels,
      lastHeartbeatMs: old?.lastHeartbeatMs ?? 0,
    };
    if (old && !identity && !sameRecord(old, store)) {
      const silentMs = this.now() - old.lastHeartbeatMs;
      if (old.lastHeartbeatMs > 0 && silentMs < STORE_ALIVE_MS) {
        throw new PdError(
          PdErrorCode.PermissionDenied,
          `store ${req.id} at ${old.address} is alive (last heartbeat ${silentMs} ms ago); ` +
            `its record can change only once it has been silent for ${STORE_ALIVE_MS} ms, ` +
            `or from the store itself over mTLS`,
        );
      }
    }
    const fixTiming = req.raftTiming && !this.raftTiming ? req.raftTiming : undefined;
    this.meta.transaction(() => {
      if (fixTiming) this.meta.saveRaftTiming(fixTiming);
      this.persistStore(store);
    });
    if (fixTiming) this.raftTiming = { ...fixTiming };
    this.stores.set(store.id, store);
    return cloneStore(store);
  }

  /** The cluster-wide Raft timing, once the first store reported it. */
  getRaftTiming(): RaftTiming | undefined {
    return this.raftTiming && { ...this.raftTiming };
  }

  private checkRaftTiming(storeId: StoreId, t: RaftTiming): void {
    validateRaftTiming(t);
    if (this.raftTiming && !sameRaftTiming(this.raftTiming, t)) {
      throw new PdError(
        PdErrorCode.ClusterConfigMismatch,
        `store ${storeId} runs with ${formatRaftTiming(t)} but this cluster uses ` +
          `${formatRaftTiming(this.raftTiming)} (leader leases assume every store ticks alike); ` +
          `start it with those settings`,
      );
    }
  }

  getStore(id: StoreId): StoreMeta | undefined {
    const s = this.stores.get(id);
    return s && cloneStore(s);
  }

  getAllStores(excludeTombstones = false): StoreMeta[] {
    return [...this.stores.values()]
      .filter((s) => !excludeTombstones || s.state !== StoreState.Tombstone)
      .sort((a, b) => a.id - b.id)
      .map(cloneStore);
  }

  /** Up <-> Offline, anything -> Tombstone; a tombstone never comes back. */
  setStoreState(id: StoreId, state: StoreState): StoreMeta {
    const s = this.liveStore(id);
    const next = { ...s, state };
    this.persistStore(next);
    this.stores.set(id, next);
    return cloneStore(next);
  }

  /** Records a store heartbeat: the time is persisted, the stats are kept in memory. */
  storeHeartbeat(id: StoreId, stats: StoreStats = {}, identity?: CallerIdentity): void {
    if (identity && identity.storeId !== id) {
      throw new PdError(
        PdErrorCode.PermissionDenied,
        `store ${identity.storeId} may not heartbeat for store ${id}`,
      );
    }
    const s = this.liveStore(id);
    const next = { ...s, lastHeartbeatMs: this.now() };
    // Liveness is judged from memory; the meta store's copy of the heartbeat time only
    // has to be recent enough for a restarted PD (see STORE_HEARTBEAT_PERSIST_MS).
    const persisted = this.persistedHeartbeatMs.get(id) ?? 0;
    if (persisted === 0 || next.lastHeartbeatMs - persisted >= STORE_HEARTBEAT_PERSIST_MS)
      this.persistStore(next);
    this.stores.set(id, next);
    this.storeStats.set(id, { ...stats });
  }

  /** Write a store's record, and remember which heartbeat time the meta store now has. */
  private persistStore(s: StoreMeta): void {
    this.meta.putStore(s);
    this.persistedHeartbeatMs.set(s.id, s.lastHeartbeatMs);
  }

  getStoreStats(id: StoreId): StoreStats | undefined {
    const st = this.storeStats.get(id);
    return st && { ...st };
  }

  /** Regions with a peer on the store, and Regions whose reported leader is on it. */
  getStoreCounts(id: StoreId): StoreCounts {
    const c = this.counts.get(id);
    return { regionCount: c?.regionCount ?? 0, leaderCount: c?.leaderCount ?? 0 };
  }

  // --- bootstrap ---

  isBootstrapped(): boolean {
    return this.bootstrapped;
  }

  /** Bootstrap is possible once enough stores are Up and it has not happened yet. */
  canBootstrap(): boolean {
    return !this.bootstrapped && this.upStoreIds().length >= this.initialStores;
  }

  /**
   * Bootstraps if the cluster is ready (see canBootstrap) and returns the initial Regions;
   * otherwise returns null. The server calls it after each store registration.
   */
  maybeBootstrap(layout?: InitialLayout): Region[] | null {
    return this.canBootstrap() ? this.bootstrap(layout) : null;
  }

  /**
   * Cuts the key space into the initial Regions and places a voter of each on every store
   * of `storeIds` (default: the first `initialStores` Up stores, lowest ids first; given
   * explicitly, each must be a registered Up store). Persists them together with the
   * bootstrapped flag and returns them so the server can tell the stores. Refused if
   * already done; a refused call changes nothing.
   */
  bootstrap(layout: InitialLayout = this.initialLayout, storeIds?: StoreId[]): Region[] {
    if (this.bootstrapped) {
      throw new PdError(
        PdErrorCode.AlreadyBootstrapped,
        `cluster ${this.clusterId} is already bootstrapped`,
      );
    }
    const targets = storeIds?.length ? this.checkBootstrapStores(storeIds) : this.defaultStores();
    const splitKeys = layoutSplitKeys(layout);
    const regions = buildInitialRegions(splitKeys, targets, () => this.ids.alloc());
    this.meta.saveBootstrap(regions);
    for (const r of regions) this.attach(r, undefined);
    this.bootstrapped = true;
    return regions.map(cloneRegion);
  }

  private defaultStores(): StoreId[] {
    const up = this.upStoreIds();
    if (up.length < this.initialStores) {
      throw new PdError(
        PdErrorCode.NotEnoughStores,
        `bootstrap needs ${this.initialStores} stores up, have ${up.length}`,
      );
    }
    return up.slice(0, this.initialStores);
  }

  private checkBootstrapStores(storeIds: StoreId[]): StoreId[] {
    if (new Set(storeIds).size !== storeIds.length) {
      throw new PdError(PdErrorCode.InvalidArgument, `duplicate bootstrap stores ${storeIds}`);
    }
    for (const id of storeIds) {
      if (this.liveStore(id).state !== StoreState.Up) {
        throw new PdError(PdErrorCode.InvalidArgument, `store ${id} is not up`);
      }
    }
    return [...storeIds];
  }

  // --- region heartbeats ---

  /**
   * Applies a leader's report of its Region. Every check runs before anything changes, so
   * a refused report leaves memory and disk as they were.
   *
   *  1. Who: with an identity, the reporting leader must live on the caller's store. Its
   *     store must be registered and not a tombstone, and so must every peer's store.
   *  2. Shape (region_validation.ts): ids PD allocated, a term >= 1, bounded numbers,
   *     distinct peers, the leader one of its voters.
   *  3. Not stale (TiKV PD's checkStaleRegion): against the same Region id neither version
   *     nor conf_ver goes back, and an older term is refused while the newer leader keeps
   *     reporting; every other Region it overlaps must have a LOWER version (overlapping
   *     Regions at one version cannot both be current, and PD cannot tell which is).
   *  4. Consistent with what the leader could know: peers change only with conf_ver, the
   *     range only with version; it may replace an overlapping Region (split parent, merge
   *     source) only if its leader's store hosts a peer of that Region (a split copies its
   *     parent's stores, a merge needs source and target on the same stores); and neither
   *     epoch component may run ahead of what PD knows by more than the bound in
   *     trust_limits.ts (each change is a committed entry, so a real Region moves slowly).
   *
   * An accepted report replaces every overlapping Region, which is how splits and merges
   * reach the map.
   */
  regionHeartbeat(hb: RegionHeartbeat, identity?: CallerIdentity): RegionHeartbeatResult {
    if (!this.bootstrapped)
      throw new PdError(PdErrorCode.NotBootstrapped, 'cluster is not bootstrapped');
    const region = normalizeRegion(hb.region);
    const leader = { ...hb.leader };
    if (identity && identity.storeId !== leader.storeId) {
      throw new PdError(
        PdErrorCode.PermissionDenied,
        `store ${identity.storeId} may not report region ${region.id} for a leader on store ${leader.storeId}`,
      );
    }
    this.liveStore(leader.storeId);
    const term = hb.term;
    validateRegionHeartbeat(region, leader, term, hb.stats, this.ids.highWater);
    for (const p of region.peers) {
      if (!this.stores.has(p.storeId)) {
        throw new PdError(
          PdErrorCode.StoreNotFound,
          `region ${region.id}: peer ${p.id} is on store ${p.storeId}, which is not registered`,
        );
      }
    }

    const now = this.now();
    const origin = this.tree.getRegionById(region.id);
    const overlaps = this.tree.overlaps(region).filter((o) => o.id !== region.id);
    for (const o of overlaps) {
      if (region.epoch.version <= o.epoch.version) throw staleError(region, o);
    }
    if (origin) {
      const { version, confVer } = origin.epoch;
      if (region.epoch.version < version || region.epoch.confVer < confVer) {
        throw staleError(region, origin);
      }
      const known = this.leaders.get(region.id);
      if (known && term < known.term && now - known.heardAtMs < LEADER_TERM_TTL_MS) {
        throw new PdError(
          PdErrorCode.StaleRegion,
          `region ${region.id}: heartbeat from term ${term} but term ${known.term} already reported`,
        );
      }
      this.checkUnchangedEpoch(region, origin);
    }
    for (const o of overlaps) {
      if (!o.peers.some((p) => p.storeId === leader.storeId)) {
        throw inconsistent(
          region,
          `would replace region ${o.id}, but its leader's store ${leader.storeId} hosts no peer of it`,
        );
      }
    }
    this.checkEpochStep(region, origin, overlaps, now);

    if (hb.stats) this.regionStats.set(region.id, { ...hb.stats });
    this.heardAt.set(region.id, now);
    this.onRegionLoad?.(region, leader, hb.stats, now);
    const newLeader: LeaderInfo = { peer: leader, term, heardAtMs: now };
    if (origin && sameMeta(origin, region)) {
      // Only the leader may have moved: nothing to persist.
      this.detachLeader(region.id);
      this.attachLeader(region.id, newLeader);
      return { changed: false, replaced: [] };
    }

    this.meta.transaction(() => {
      for (const o of overlaps) this.meta.deleteRegion(o.id);
      this.meta.putRegion(region);
    });
    if (origin) this.detach(origin);
    for (const o of overlaps) {
      this.detach(o);
      this.regionStats.delete(o.id);
      this.heardAt.delete(o.id);
    }
    this.attach(region, newLeader);
    const covers = (o: Region) =>
      Buffer.compare(region.startKey, o.startKey) <= 0 &&
      (region.endKey.length === 0 ||
        (o.endKey.length > 0 && Buffer.compare(o.endKey, region.endKey) <= 0));
    const merged = overlaps.filter(covers).map((o) => o.id);
    const replaced = overlaps.map((o) => o.id);
    return merged.length > 0 ? { changed: true, replaced, merged } : { changed: true, replaced };
  }

  /** Raft changes membership only through a conf change (conf_ver + 1) and the range only
   * through a split or merge (version + 1): a change without its bump is no real report. */
  private checkUnchangedEpoch(region: Region, origin: Region): void {
    if (region.epoch.confVer === origin.epoch.confVer && !samePeerSet(origin, region)) {
      throw inconsistent(region, `peers changed but conf_ver stayed ${region.epoch.confVer}`);
    }
    if (
      region.epoch.version === origin.epoch.version &&
      !(region.startKey.equals(origin.startKey) && region.endKey.equals(origin.endKey))
    ) {
      throw inconsistent(region, `key range changed but version stayed ${region.epoch.version}`);
    }
  }

  /**
   * Bounds how far a report may move the epoch past what PD knows: the same Region's epoch
   * and the versions of the Regions it would replace (a split child inherits its parent's
   * conf_ver and gets its version + 1; a merge target gets max(versions) + 1). A Region
   * with nothing to compare against (it fills a gap) is held to the highest epoch in the
   * map. The allowance grows with the time since PD last heard from those Regions, so a
   * Region that changed a lot while PD was down is accepted after a while.
   */
  private checkEpochStep(
    region: Region,
    origin: Region | undefined,
    overlaps: readonly Region[],
    now: number,
  ): void {
    const known = origin ? [origin, ...overlaps] : overlaps;
    let baseVersion = 0;
    let baseConfVer = 0;
    let heard = -Infinity;
    const basis = known.length > 0 ? known : this.tree.all();
    for (const r of basis) baseVersion = Math.max(baseVersion, r.epoch.version);
    // conf_ver counts membership changes of ONE Raft group; a new Region starts from its
    // parent's (split) and a merge target keeps its own.
    const confBasis = origin ? [origin] : basis;
    for (const r of confBasis) baseConfVer = Math.max(baseConfVer, r.epoch.confVer);
    for (const r of known) heard = Math.max(heard, this.heardAt.get(r.id) ?? now);
    const silentSecs = known.length > 0 ? Math.max(0, Math.floor((now - heard) / 1000)) : 0;
    const allowance = EPOCH_STEP_BASE + silentSecs * EPOCH_STEP_PER_SECOND;
    const { version, confVer } = region.epoch;
    if (version > baseVersion + allowance || confVer > baseConfVer + allowance) {
      throw inconsistent(
        region,
        `epoch {confVer: ${confVer}, version: ${version}} is beyond what its leader could have ` +
          `reached: PD knows {confVer: ${baseConfVer}, version: ${baseVersion}} and allows ` +
          `${allowance} more`,
      );
    }
  }

  // --- splits ---

  /** Ids for a batch split the leader of `region` is about to propose (split.ts). */
  askBatchSplit(region: Region, count: number): SplitIds[] {
    if (!this.bootstrapped)
      throw new PdError(PdErrorCode.NotBootstrapped, 'cluster is not bootstrapped');
    return allocSplitIds(this.tree.getRegionById(region.id), region, count, () => this.ids.alloc());
  }

  // --- lookups ---

  getRegion(key: Uint8Array): RegionInfo | undefined {
    const r = this.tree.getRegion(key);
    return r && this.info(r);
  }

  getRegionById(id: RegionId): RegionInfo | undefined {
    const r = this.tree.getRegionById(id);
    return r && this.info(r);
  }

  /** Regions intersecting [start, end) in key order; empty end = no bound; limit <= 0 = all. */
  scanRegions(start: Uint8Array, end: Uint8Array, limit = 0): RegionInfo[] {
    return this.tree.scanRegions(start, end, limit).map((r) => this.info(r));
  }

  /** Every Region with a peer on the store: what a (re)starting store should host. */
  getStoreRegions(storeId: StoreId): RegionInfo[] {
    return this.tree
      .all()
      .filter((r) => r.peers.some((p) => p.storeId === storeId))
      .map((r) => this.info(r));
  }

  getRegionStats(id: RegionId): RegionStats | undefined {
    const st = this.regionStats.get(id);
    return st && { ...st };
  }

  get regionCount(): number {
    return this.tree.size;
  }

  // --- internals ---

  private liveStore(id: StoreId): StoreMeta {
    const s = this.stores.get(id);
    if (!s) throw new PdError(PdErrorCode.StoreNotFound, `store ${id} is not registered`);
    if (s.state === StoreState.Tombstone) {
      throw tombstoneError(id);
    }
    return s;
  }

  private upStoreIds(): StoreId[] {
    return [...this.stores.values()]
      .filter((s) => s.state === StoreState.Up)
      .map((s) => s.id)
      .sort((a, b) => a - b);
  }

  private info(r: Region): RegionInfo {
    const l = this.leaders.get(r.id);
    return l ? { region: cloneRegion(r), leader: { ...l.peer } } : { region: cloneRegion(r) };
  }

  /** Puts r in the tree and counts its peers (and leader) on their stores. */
  private attach(r: Region, leader: LeaderInfo | undefined): void {
    this.tree.update(r);
    for (const p of r.peers) this.bump(p.storeId, 'regionCount', 1);
    if (leader) this.attachLeader(r.id, leader);
  }

  /** Takes r out of the tree and undoes its counts. */
  private detach(r: Region): void {
    if (this.tree.getRegionById(r.id) === r) this.tree.remove(r.id);
    for (const p of r.peers) this.bump(p.storeId, 'regionCount', -1);
    this.detachLeader(r.id);
  }

  private attachLeader(id: RegionId, l: LeaderInfo): void {
    this.leaders.set(id, l);
    this.bump(l.peer.storeId, 'leaderCount', 1);
  }

  private detachLeader(id: RegionId): void {
    const l = this.leaders.get(id);
    if (!l) return;
    this.leaders.delete(id);
    this.bump(l.peer.storeId, 'leaderCount', -1);
  }

  private bump(store: StoreId, field: keyof StoreCounts, delta: number): void {
    let c = this.counts.get(store);
    if (!c) {
      c = { regionCount: 0, leaderCount: 0 };
      this.counts.set(store, c);
    }
    c[field] += delta;
  }
}

/** Heartbeats may carry Uint8Arrays from the wire; PD keeps its own Buffers. */
function normalizeRegion(r: Region): Region {
  return {
    id: r.id,
    startKey: Buffer.from(r.startKey),
    endKey: Buffer.from(r.endKey),
    epoch: { confVer: r.epoch.confVer, version: r.epoch.version },
    peers: r.peers.map((p) => ({ id: p.id, storeId: p.storeId, role: p.role })),
  };
}

/** The same peers (id, store, role), in any order. */
function samePeerSet(a: Region, b: Region): boolean {
  const key = (p: Peer) => `${p.id}/${p.storeId}/${p.role}`;
  const ka = new Set(a.peers.map(key));
  return a.peers.length === b.peers.length && b.peers.every((p) => ka.has(key(p)));
}

function sameRecord(a: StoreMeta, b: StoreMeta): boolean {
  return (
    a.address === b.address &&
    a.statusAddress === b.statusAddress &&
    a.labels.length === b.labels.length &&
    a.labels.every((l, i) => l.key === b.labels[i]!.key && l.value === b.labels[i]!.value)
  );
}

/** A removed store's id never comes back: say so, and what to do instead. */
function tombstoneError(id: StoreId): PdError {
  return new PdError(
    PdErrorCode.StoreTombstone,
    `store ${id} was removed (Tombstone): its id is never reused; ` +
      `start a new store with an empty data directory to rejoin`,
  );
}

function inconsistent(r: Region, why: string): PdError {
  return new PdError(PdErrorCode.RegionInconsistent, `region ${r.id}: ${why}`);
}

function sameMeta(a: Region, b: Region): boolean {
  return (
    epochEqual(a.epoch, b.epoch) &&
    a.startKey.equals(b.startKey) &&
    a.endKey.equals(b.endKey) &&
    a.peers.length === b.peers.length &&
    a.peers.every((p, i) => {
      const q = b.peers[i]!;
      return p.id === q.id && p.storeId === q.storeId && p.role === q.role;
    })
  );
}

function staleError(r: Region, current: Region): PdError {
  const e = (x: Region) => `{confVer: ${x.epoch.confVer}, version: ${x.epoch.version}}`;
  return new PdError(
    PdErrorCode.StaleRegion,
    `region ${r.id} epoch ${e(r)} is stale against region ${current.id} epoch ${e(current)}`,
  );
}
