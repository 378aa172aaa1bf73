// The client's map of the cluster: which Region holds a key, which peer of it is the
// leader (a guess, corrected by the stores), and where each store listens. Regions are
// kept sorted by start key and never overlap, so a lookup is one binary search. A miss
// asks PD; a region error from a store repairs the entry it was about, so most errors
// are fixed without a round trip to PD.
import {
  cloneRegion,
  formatKey,
  isEpochStale,
  keyInRegion,
  PeerRole,
  rangesOverlap,
  type Peer,
  type Region,
} from '../region/meta.js';
import { PdError } from './errors.js';

/** A Region and, when PD knows it, its leader. */
export interface RegionInfo {
  region: Region;
  leader?: Peer | null;
}

/**
 * What the cache needs of a store: where to reach it. PdClient answers the store's
 * metadata wrapped with its stats ({store: {address, ...}, stats}); a bare store is
 * accepted too.
 */
export type StoreLookupResult = { address: string } | { store: { address: string } };

/**
 * The PD lookups the SDK needs; the PD client satisfies it, and tests pass a fake.
 * getRegion / getRegionById answer nothing (null or undefined) when no Region matches.
 */
export interface PdLookup {
  getRegion(key: Buffer): Promise<RegionInfo | null | undefined>;
  getRegionById(id: number): Promise<RegionInfo | null | undefined>;
  /** Regions overlapping [startKey, endKey) in key order; an empty endKey is +infinity. */
  scanRegions(startKey: Buffer, endKey: Buffer, limit: number): Promise<RegionInfo[]>;
  getStore(id: number): Promise<StoreLookupResult | null | undefined>;
  getTimestamp(): Promise<unknown>;
}

/** Where to send a request for a Region: a snapshot of a cache entry. */
export interface RegionLocation {
  /** Treat as read-only: it is shared with the cache. */
  readonly region: Region;
  readonly leader: Peer;
}

interface Entry {
  region: Region;
  leader: Peer;
  /** Send failures since the last success; once every peer failed, PD is asked again. */
  failures: number;
}

/** How many Regions one PD scan fetches while filling a gap for a range. */
const SCAN_BATCH = 32;

const cmp = Buffer.compare;

/** Does the Region end at or after `end`? (An empty key is +infinity on both sides.) */
function endsAtOrAfter(region: Region, end: Buffer): boolean {
  if (region.endKey.length === 0) return true;
  if (end.length === 0) return false;
  return cmp(region.endKey, end) >= 0;
}

/** PD's leader if it is one of the Region's peers, else the first voter. */
function pickLeader(region: Region, hint?: Peer | null): Peer | undefined {
  if (hint) {
    const p = region.peers.find((x) => x.id === hint.id);
    if (p) return p;
  }
  return region.peers.find((p) => p.role !== PeerRole.Learner) ?? region.peers[0];
}

export class RegionCache {
  /** Sorted by start key; never overlapping. */
  private entries: Entry[] = [];
  private readonly byId = new Map<number, Entry>();
  private readonly storeAddresses = new Map<number, Promise<string>>();
  /** One PD lookup per key at a time, however many callers miss on it together. */
  private readonly loading = new Map<string, Promise<RegionLocation>>();

  constructor(private readonly pd: PdLookup) {}

  // ---- lookups -------------------------------------------------------------------

  /** Index of the last entry whose start key is <= key, or -1. */
  private floorIndex(key: Buffer, strict = false): number {
    let lo = 0;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = cmp(this.entries[mid]!.region.startKey, key);
      if (c < 0 || (c === 0 && !strict)) lo = mid + 1;
      else hi = mid;
    }
    return lo - 1;
  }

  private static location(e: Entry): RegionLocation {
    return { region: e.region, leader: e.leader };
  }

  /** The cached Region holding key, without asking PD. */
  lookup(key: Buffer): RegionLocation | undefined {
    const i = this.floorIndex(key);
    const e = i >= 0 ? this.entries[i] : undefined;
    return e && keyInRegion(key, e.region) ? RegionCache.location(e) : undefined;
  }

  /** The cached Region holding the keys just below endKey (empty: the last Region). */
  lookupEnd(endKey: Buffer): RegionLocation | undefined {
    let e: Entry | undefined;
    if (endKey.length === 0) {
      e = this.entries[this.entries.length - 1];
      if (e && e.region.endKey.length !== 0) e = undefined;
    } else {
      const i = this.floorIndex(endKey, true);
      e = i >= 0 ? this.entries[i] : undefined;
      if (e && !endsAtOrAfter(e.region, endKey)) e = undefined;
    }
    return e ? RegionCache.location(e) : undefined;
  }

  /** The Region holding key: from the cache, else from PD. */
  async locateKey(key: Buffer): Promise<RegionLocation> {
    return this.lookup(key) ?? this.load(key);
  }

  /**
   * The Regions covering [start, end) in key order (an empty end is +infinity). Gaps in
   * the cache are filled with one PD scan per batch of Regions rather than one lookup
   * per Region.
   */
  async locateRange(start: Buffer, end: Buffer): Promise<RegionLocation[]> {
    const out: RegionLocation[] = [];
    if (end.length > 0 && cmp(start, end) >= 0) return out;
    let cur = start;
    for (;;) {
      let loc = this.lookup(cur);
      if (!loc) {
        await this.loadRange(cur, end);
        loc = this.lookup(cur) ?? (await this.load(cur));
      }
      out.push(loc);
      if (endsAtOrAfter(loc.region, end)) return out;
      cur = loc.region.endKey;
    }
  }

  /**
   * The Region holding the keys just below endKey (empty: the last Region), for reverse
   * scans. PD can only be asked which Region holds a key, and the key just below endKey
   * has no finite name, so a miss loads the range [lowerBound, endKey) instead.
   */
  async locateEndKey(endKey: Buffer, lowerBound: Buffer): Promise<RegionLocation> {
    const hit = this.lookupEnd(endKey);
    if (hit) return hit;
    const locs = await this.locateRange(lowerBound, endKey);
    const last = locs[locs.length - 1];
    if (!last) throw new PdError(`no Region below key ${JSON.stringify(formatKey(endKey))}`);
    return last;
  }

  /** The cached Region with this id, else PD's. */
  async locateRegionById(id: number): Promise<RegionLocation> {
    const e = this.byId.get(id);
    if (e) return RegionCache.location(e);
    const info = await this.pd.getRegionById(id);
    if (!info) throw new PdError(`PD knows no Region ${id}`);
    return this.insert(info);
  }

  /** The gRPC address of a store (cached; dropped again by invalidateStore). */
  storeAddress(storeId: number): Promise<string> {
    let p = this.storeAddresses.get(storeId);
    if (!p) {
      p = this.pd.getStore(storeId).then((s) => {
        const address = s && ('store' in s ? s.store.address : s.address);
        if (!address) throw new PdError(`PD knows no address for store ${storeId}`);
        return address;
      });
      // A failed lookup must not stick: the next caller asks again.
      p.catch(() => {
        if (this.storeAddresses.get(storeId) === p) this.storeAddresses.delete(storeId);
      });
      this.storeAddresses.set(storeId, p);
    }
    return p;
  }

  private load(key: Buffer): Promise<RegionLocation> {
    const k = key.toString('hex');
    let p = this.loading.get(k);
    if (!p) {
      p = this.pd
        .getRegion(key)
        .then((info) => {
          if (!info || !keyInRegion(key, info.region)) {
            throw new PdError(`PD knows no Region for key ${JSON.stringify(formatKey(key))}`);
          }
          return this.insert(info);
        })
        .finally(() => this.loading.delete(k));
      this.loading.set(k, p);
    }
    return p;
  }

  private async loadRange(start: Buffer, end: Buffer): Promise<void> {
    const infos = await this.pd.scanRegions(start, end, SCAN_BATCH);
    for (const info of infos) {
      if (info.region.peers.length > 0) this.insert(info);
    }
  }

  // ---- repairs -------------------------------------------------------------------

  /**
   * Caches a Region, dropping the entries it overlaps, and returns its location. A
   * Region older than one it overlaps is not cached (PD may lag behind what a store
   * already told us), but its location is still returned: the store it names will
   * answer EpochNotMatch with the current Regions. Epoch versions only grow along a
   * key range's history (a split or merge result is newer than its inputs), which is
   * what makes comparing versions across Region ids sound.
   */
  insert(info: RegionInfo, leaderHint?: Peer | null): RegionLocation {
    const region = cloneRegion(info.region);
    const leader = pickLeader(region, leaderHint ?? info.leader);
    if (!leader) throw new PdError(`region ${region.id} has no peers`);
    const entry: Entry = { region, leader, failures: 0 };

    const doomed: Entry[] = [];
    const sameId = this.byId.get(region.id);
    if (sameId) doomed.push(sameId);
    let i = Math.max(0, this.floorIndex(region.startKey));
    for (; i < this.entries.length; i++) {
      const e = this.entries[i]!;
      if (!rangesOverlap(e.region, region)) {
        if (cmp(e.region.startKey, region.startKey) >= 0) break;
        continue;
      }
      if (e !== sameId) doomed.push(e);
    }
    for (const e of doomed) {
      const stale =
        e.region.id === region.id
          ? isEpochStale(region.epoch, e.region.epoch)
          : e.region.epoch.version > region.epoch.version;
      if (stale) return RegionCache.location(entry);
    }
    for (const e of doomed) this.remove(e);
    this.entries.splice(this.floorIndex(region.startKey) + 1, 0, entry);
    this.byId.set(region.id, entry);
    return RegionCache.location(entry);
  }

  private remove(e: Entry): void {
    const i = this.entries.indexOf(e);
    if (i >= 0) this.entries.splice(i, 1);
    if (this.byId.get(e.region.id) === e) this.byId.delete(e.region.id);
  }

  /** The entry loc was taken from, if the cache still holds that version of it. */
  private current(loc: RegionLocation): Entry | undefined {
    const e = this.byId.get(loc.region.id);
    return e && e.region === loc.region ? e : undefined;
  }

  /** Drops a Region so the next request for its keys asks PD. */
  invalidate(regionId: number): void {
    const e = this.byId.get(regionId);
    if (e) this.remove(e);
  }

  /** Forgets a store's address (it moved, or its process is gone). */
  invalidateStore(storeId: number): void {
    this.storeAddresses.delete(storeId);
  }

  /**
   * NotLeader. With a hint that names one of the Region's peers, that peer becomes the
   * leader guess; a hint naming an unknown peer means our peer list is stale, so the
   * entry is dropped. Without a hint (an election is running) the next peer is tried.
   * Returns false when the entry was dropped.
   */
  onNotLeader(loc: RegionLocation, leader?: Peer): boolean {
    const e = this.byId.get(loc.region.id);
    if (!e) return false;
    if (leader) {
      const p = e.region.peers.find((x) => x.id === leader.id);
      if (!p) {
        this.remove(e);
        return false;
      }
      e.leader = p;
      return true;
    }
    if (e.leader.id === loc.leader.id) e.leader = this.nextPeer(e);
    return true;
  }

  /**
   * EpochNotMatch: the store sent the Regions it holds now in place of the one we
   * asked for (after a split, the halves). The store that answered hosts them and was
   * the leader of the old Region, so it is the best leader guess for each.
   * Without Regions, the entry is dropped and PD asked again.
   */
  onEpochNotMatch(loc: RegionLocation, currentRegions: Region[], storeId: number): void {
    const e = this.current(loc);
    if (currentRegions.length === 0) {
      if (e) this.remove(e);
      return;
    }
    for (const r of currentRegions) {
      const guess = r.peers.find((p) => p.storeId === storeId);
      this.insert({ region: r }, guess);
    }
    // Whatever of the old range the new Regions do not cover is asked of PD later.
    const left = this.current(loc);
    if (left) this.remove(left);
  }

  /**
   * The leader's store could not be reached. Its address is forgotten and the next peer
   * tried; once every peer has failed, the entry is dropped so that PD is asked.
   */
  onSendFail(loc: RegionLocation): void {
    this.invalidateStore(loc.leader.storeId);
    const e = this.byId.get(loc.region.id);
    if (!e) return;
    e.failures++;
    if (e.failures >= e.region.peers.length) {
      this.remove(e);
      return;
    }
    if (e.leader.id === loc.leader.id) e.leader = this.nextPeer(e);
  }

  /** A request succeeded: the leader guess is right. */
  onSuccess(loc: RegionLocation): void {
    const e = this.byId.get(loc.region.id);
    if (e && e.leader.id === loc.leader.id) e.failures = 0;
  }

  private nextPeer(e: Entry): Peer {
    const voters = e.region.peers.filter((p) => p.role !== PeerRole.Learner);
    const ring = voters.length > 0 ? voters : e.region.peers;
    const i = ring.findIndex((p) => p.id === e.leader.id);
    return ring[(i + 1) % ring.length]!;
  }

  // ---- inspection ----------------------------------------------------------------

  /** The cached Regions in key order (copies), with their leader guesses. */
  snapshot(): { region: Region; leader: Peer }[] {
    return this.entries.map((e) => ({ region: cloneRegion(e.region), leader: { ...e.leader } }));
  }

  get size(): number {
    return this.entries.length;
  }

  clear(): void {
    this.entries = [];
    this.byId.clear();
    this.storeAddresses.clear();
  }
}
