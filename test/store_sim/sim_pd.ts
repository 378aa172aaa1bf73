// PD as the simulation's transaction clients and stores see it, one network round trip
// away: timestamps from PD's real TsoAllocator on the virtual wall clock (its persisted
// bound in memory), and Region / store lookups answered from the map the stores' reports
// would build (SimCluster.newestRegions) with the leader some store believes it is.
// PD itself never fails here: the faults are the stores' and the network's.
import type { PdLookup, RegionInfo } from '../../src/client/region_cache.js';
import { TsoAllocator } from '../../src/pd/tso.js';
import { keyInRegion, rangesOverlap } from '../../src/region/meta.js';
import type { SimCluster } from './cluster.js';
import { WORLD } from './world.js';

/** The address a simulated client dials for a store (SimKvChannels routes it). */
export function simStoreAddress(storeId: number): string {
  return `sim-store-${storeId}`;
}

export class SimPd implements PdLookup {
  private readonly tso: TsoAllocator;
  private tsoBound = 0;
  timestamps = 0;

  constructor(private readonly cluster: SimCluster) {
    this.tso = new TsoAllocator(
      {
        loadTsoUpperBound: () => this.tsoBound,
        saveTsoUpperBound: (ms) => {
          this.tsoBound = ms;
        },
      },
      { now: () => cluster.world.wallNow() },
    );
  }

  /** A value one round trip later, computed when PD "receives" the request. */
  private roundTrip<T>(what: string, answer: () => T, owner = WORLD): Promise<T> {
    const w = this.cluster.world;
    return new Promise((resolve) => {
      w.after(this.cluster.latency(), WORLD, `pd ${what}`, () => {
        const a = answer();
        w.after(this.cluster.latency(), owner, `pd answers ${what}`, () => resolve(a));
      });
    });
  }

  /** A timestamp for a store (its answer dies with the store's process) or a client. */
  timestamp(owner = WORLD): Promise<bigint> {
    return this.roundTrip(
      'tso',
      () => {
        this.timestamps++;
        return this.tso.getTimestamp();
      },
      owner,
    );
  }

  getTimestamp(): Promise<unknown> {
    return this.timestamp();
  }

  private info(regionId: number): RegionInfo | undefined {
    const region = this.cluster.newestRegions().find((r) => r.id === regionId);
    if (!region) return undefined;
    const leaderStore = [...this.cluster.stores.values()].find((s) => s.isLeaderOf(region.id));
    const leader = leaderStore && region.peers.find((p) => p.storeId === leaderStore.id);
    return { region, leader: leader ?? null };
  }

  getRegion(key: Buffer): Promise<RegionInfo | undefined> {
    return this.roundTrip('get region by key', () => {
      const r = this.cluster.newestRegions().find((x) => keyInRegion(key, x));
      return r && this.info(r.id);
    });
  }

  getRegionById(id: number): Promise<RegionInfo | undefined> {
    return this.roundTrip(`get region r${id}`, () => this.info(id));
  }

  scanRegions(startKey: Buffer, endKey: Buffer, limit: number): Promise<RegionInfo[]> {
    return this.roundTrip('scan regions', () =>
      this.cluster
        .newestRegions()
        .filter((r) => rangesOverlap(r, { startKey, endKey }))
        .slice(0, limit)
        .map((r) => this.info(r.id)!),
    );
  }

  getStore(id: number): Promise<{ address: string } | undefined> {
    return this.roundTrip(`get store ${id}`, () =>
      this.cluster.stores.has(id) ? { address: simStoreAddress(id) } : undefined,
    );
  }
}
