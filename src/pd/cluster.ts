// The PD's view of the cluster: stores, the Region map and who leads each Region. Its one
// job is to apply heartbeats and answer lookups; scheduling decisions live elsewhere.
// Transport-free: the gRPC service calls these methods and maps PdError codes to replies.
//
// What is durable (via PdMetaStore) and what is not:
//  - stores and Region metadata (range, epoch, peers) are persisted as they change;
//  - Region leaders, terms and all statistics are volatile and rebuilt from heartbeats,
//    as PD does: persisting a leader change per election would buy nothing, since the
//    next heartbeat tells the truth anyway.

import {
  cloneRegion,
  epochEqual,
  type Peer,
  type Region,
  type RegionId,
  type StoreId,
} from '../region/meta.js';
import { PdError, PdErrorCode } from './errors.js';
import type { IdAllocator } from './id_allocator.js';
import { buildInitialRegions, layoutSplitKeys, type InitialLayout } from './initial_regions.js';
import type { PdMetaStore } from './meta_store.js';
import { RegionTree } from './region_tree.js';
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
  /** Wall-clock ms, for store heartbeat times. */
  now?: () => number;
}

export interface PutStoreRequest {
  id: StoreId;
  address: string;
  statusAddress?: string;
  labels?: StoreLabel[];
}

/** Leader-reported, volatile facts about a Region. */
export interface RegionStats {
  approximateSize?: number;
  approximateKeys?: number;
  writtenBytes?: number;
  readBytes?: number;
  /** Peers that have not answered the leader for a while. */
  downPeers?: { peer: Peer; downSeconds: number }[];
  /** Peers whose logs lag far behind the leader's. */
  pendingPeers?: Peer[];
}

export interface RegionHeartbeat {
  region: Region;
  /** The reporting peer, which is the Region's leader. */
  leader: Peer;
  /** The leader's Raft term; a heartbeat from an older term is stale. 0/absent: unknown. */
  term?: number;
  stats?: RegionStats;
}

export interface RegionHeartbeatResult {
  /** Range, epoch or peers differed from what PD had, and the change was persisted. */
  changed: boolean;
  /** Ids of regions this one replaced (split parents, merge sources, stale overlaps). */
  replaced: RegionId[];
}

/** A Region as PD answers lookups with it: a copy, with its leader if one has reported. */
export interface RegionInfo {
  region: Region;
  leader?: Peer;
}

export interface StoreCounts {
  regionCount: number;
  leaderCount: number;
}

interface LeaderInfo {
  peer: Peer;
  term: number;
}

export class PdCluster {
  private readonly stores = new Map<StoreId, StoreMeta>();
  private readonly storeStats = new Map<StoreId, StoreStats>();
  private readonly tree = new RegionTree();
  private readonly leaders = new Map<RegionId, LeaderInfo>();
  private readonly regionStats = new Map<RegionId, RegionStats>();
  private readonly counts = new Map<StoreId, StoreCounts>();
  private bootstrapped: boolean;
  readonly initialStores: number;
  private readonly initialLayout: InitialLayout;
  private readonly now: () => number;

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
    for (const s of meta.loadStores()) this.stores.set(s.id, s);
    for (const r of meta.loadRegions()) this.attach(r, undefined);
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
   */
  putStore(req: PutStoreRequest): StoreMeta {
    if (!Number.isSafeInteger(req.id) || req.id <= 0) {
      throw new PdError(PdErrorCode.InvalidArgument, `bad store id ${req.id}`);
    }
    if (!req.address) throw new PdError(PdErrorCode.InvalidArgument, 'store address is empty');
    const old = this.stores.get(req.id);
    if (old?.state === StoreState.Tombstone) {
      throw new PdError(PdErrorCode.StoreTombstone, `store ${req.id} is a tombstone`);
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
      labels: (req.labels ?? []).map((l) => ({ key: l.key, value: l.value })),
      lastHeartbeatMs: old?.lastHeartbeatMs ?? 0,
    };
    this.meta.putStore(store);
    this.stores.set(store.id, store);
    return cloneStore(store);
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
    this.meta.putStore(next);
    this.stores.set(id, next);
    return cloneStore(next);
  }

  /** Records a store heartbeat: the time is persisted, the stats are kept in memory. */
  storeHeartbeat(id: StoreId, stats: StoreStats = {}): void {
    const s = this.liveStore(id);
    const next = { ...s, lastHeartbeatMs: this.now() };
    this.meta.putStore(next);
    this.stores.set(id, next);
    this.storeStats.set(id, { ...stats });
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
   * Applies a leader's report of its Region. Accepted only if its epoch is not older than
   * PD's: against the same Region id both version (range) and conf_ver (membership) must
   * not go back; against other Regions it overlaps only version is comparable (conf_ver
   * counts membership changes of a different Raft group). An accepted report replaces
   * every overlapping Region, which is how splits and merges reach the map.
   */
  regionHeartbeat(hb: RegionHeartbeat): RegionHeartbeatResult {
    if (!this.bootstrapped)
      throw new PdError(PdErrorCode.NotBootstrapped, 'cluster is not bootstrapped');
    const region = normalizeRegion(hb.region);
    const leader = { ...hb.leader };
    const term = hb.term ?? 0;
    this.liveStore(leader.storeId);
    validateRegion(region, leader);

    const origin = this.tree.getRegionById(region.id);
    for (const o of this.tree.overlaps(region)) {
      if (o.id !== region.id && region.epoch.version < o.epoch.version) {
        throw staleError(region, o);
      }
    }
    if (origin) {
      const { version, confVer } = origin.epoch;
      if (region.epoch.version < version || region.epoch.confVer < confVer) {
        throw staleError(region, origin);
      }
      const known = this.leaders.get(region.id);
      if (known && term > 0 && term < known.term) {
        throw new PdError(
          PdErrorCode.StaleRegion,
          `region ${region.id}: heartbeat from term ${term} but term ${known.term} already reported`,
        );
      }
    }

    if (hb.stats) this.regionStats.set(region.id, { ...hb.stats });
    const newLeader: LeaderInfo = { peer: leader, term };
    if (origin && sameMeta(origin, region)) {
      // Only the leader may have moved: nothing to persist.
      this.detachLeader(region.id);
      this.attachLeader(region.id, newLeader);
      return { changed: false, replaced: [] };
    }

    const replaced = this.tree.overlaps(region).filter((o) => o.id !== region.id);
    this.meta.transaction(() => {
      for (const o of replaced) this.meta.deleteRegion(o.id);
      this.meta.putRegion(region);
    });
    if (origin) this.detach(origin);
    for (const o of replaced) {
      this.detach(o);
      this.regionStats.delete(o.id);
    }
    this.attach(region, newLeader);
    return { changed: true, replaced: replaced.map((o) => o.id) };
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
      throw new PdError(PdErrorCode.StoreTombstone, `store ${id} is a tombstone`);
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

function validateRegion(r: Region, leader: Peer): void {
  const bad = (msg: string) => new PdError(PdErrorCode.InvalidArgument, `region ${r.id}: ${msg}`);
  if (!Number.isSafeInteger(r.id) || r.id <= 0) throw bad('bad id');
  if (r.endKey.length > 0 && Buffer.compare(r.startKey, r.endKey) >= 0)
    throw bad('empty key range');
  if (r.peers.length === 0) throw bad('no peers');
  if (!r.peers.some((p) => p.id === leader.id && p.storeId === leader.storeId)) {
    throw bad(`leader peer ${leader.id} on store ${leader.storeId} is not one of its peers`);
  }
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
