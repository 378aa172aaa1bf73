// Safety invariants checked after every simulated event, on the stores' real state.
//   - Election Safety (Raft, thesis §3.6.3): at most one leader per term per Region.
//   - Lease safety: no two peers of one Region would serve a read from their lease at the
//     same virtual instant (the exact condition RegionPeer.read() uses).
//   - Replica agreement (State Machine Safety seen from the engines): every replica of a
//     Region that reached apply index i holds the same RawKV data at i (the workload's
//     keys, after every event; every row of every table — RawKV, and the transactions'
//     locks, writes and values — at the end).
//   - Regions tile the key space without overlap (every Region's newest known epoch).
import { DATA_TABLES } from '../../src/storage/region_schema.js';
import { NONE, StateRole } from '../../src/raft/index.js';
import { Region } from '../../src/region/meta.js';
import { RegionPeer } from '../../src/store/peer.js';
import { LeaderLease } from '../../src/store/lease.js';
import { SimCluster } from './cluster.js';

export class InvariantViolation extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvariantViolation';
  }
}

/** The lease a peer keeps privately (peer.ts); read-only access for the checker. */
function leaseOf(p: RegionPeer): LeaderLease {
  return p['lease'];
}

/** Whether `p` would answer a read from its lease at `now` without a quorum round. */
export function servesLeaseReads(p: RegionPeer, now: number): boolean {
  const raft = p.node.raft;
  return (
    raft.state === StateRole.Leader &&
    raft.leadTransferee === NONE &&
    leaseOf(p).isValid(now) &&
    raft.raftLog.zeroTermOnOutOfBounds(raft.raftLog.committed) === raft.term
  );
}

/** The Region's RawKV data at the workload's keys (point gets: cheap after every event). */
function dumpRaw(p: RegionPeer, keys: Buffer[]): string {
  return keys
    .map((key) => ({ key, value: p.engine.get('raw', key) }))
    .filter((r) => r.value !== undefined)
    .map((r) => `${r.key.toString('hex')}=${r.value!.toString('hex')}`)
    .join(',');
}

/** Every row of every data table: RawKV and the transactions' locks, writes and values. */
function dumpAll(p: RegionPeer): string {
  return DATA_TABLES.map(
    (table) =>
      `${table}:` +
      p.engine
        .scan({ table })
        .map((r) => `${r.key.toString('hex')}=${r.value?.toString('hex') ?? ''}`)
        .join(','),
  ).join(' ');
}

export class InvariantChecker {
  /** "region:term" → the peer that led it. */
  private readonly leaders = new Map<string, number>();
  /** "region:applyIndex" → hash of the raw data there, and who first reported it. */
  private readonly appliedHashes = new Map<string, { hash: string; peer: string }>();
  /** Last apply index checked, per "store:region" (unchanged indexes are not rehashed). */
  private readonly lastChecked = new Map<string, number>();
  /** Region meta objects already checked for tiling (a peer replaces its meta when it changes). */
  private readonly seenRegionMeta = new WeakSet<Region>();
  private readonly keys: Buffer[];
  checks = 0;

  /** `keys`: every key the workload writes; per-event checks read only those (cheap). */
  constructor(
    private readonly cluster: SimCluster,
    keys: string[],
  ) {
    this.keys = keys.map((k) => Buffer.from(k));
  }

  /** Throws InvariantViolation describing the first broken invariant. */
  check(now: number): void {
    this.checks++;
    const leaseHolders = new Map<number, string[]>();
    for (const s of this.cluster.stores.values()) {
      if (!s.up) continue;
      for (const p of s.store.peers.values()) {
        const raft = p.node.raft;
        if (raft.state === StateRole.Leader) {
          const k = `${p.regionId}:${raft.term}`;
          const prev = this.leaders.get(k);
          if (prev === undefined) this.leaders.set(k, p.peerId);
          else if (prev !== p.peerId) {
            throw new InvariantViolation(
              `two leaders of region ${p.regionId} in term ${raft.term}: peers ${prev} and ${p.peerId}`,
            );
          }
        }
        if (servesLeaseReads(p, now)) {
          const l = leaseHolders.get(p.regionId) ?? [];
          l.push(`peer ${p.peerId} (store ${s.id}, term ${raft.term})`);
          leaseHolders.set(p.regionId, l);
        }
        this.checkApplied(s.id, p);
      }
    }
    for (const [regionId, holders] of leaseHolders) {
      if (holders.length > 1) {
        throw new InvariantViolation(
          `region ${regionId}: ${holders.length} peers serve lease reads at ${now.toFixed(3)} ms: ${holders.join(', ')}`,
        );
      }
    }
    this.checkTiling(false);
  }

  /**
   * At the end, on quiet replicas: every row (not only the workload's keys) of every replica
   * at equal apply index is equal, and the tiling holds.
   */
  checkFinal(): void {
    const byIndex = new Map<string, { data: string; who: string }>();
    for (const s of this.cluster.stores.values()) {
      if (!s.up) continue;
      for (const p of s.store.peers.values()) {
        const k = `${p.regionId}:${p.appliedIndex}`;
        const data = dumpAll(p);
        const who = `peer ${p.peerId} on store ${s.id}`;
        const prev = byIndex.get(k);
        if (!prev) byIndex.set(k, { data, who });
        else if (prev.data !== data) {
          throw new InvariantViolation(
            `region ${p.regionId} at apply index ${p.appliedIndex}: ${who} holds other rows than ${prev.who}`,
          );
        }
      }
    }
    this.checkTiling(true);
  }

  private checkApplied(storeId: number, p: RegionPeer): void {
    const where = `${storeId}:${p.regionId}`;
    if (this.lastChecked.get(where) === p.appliedIndex) return;
    this.lastChecked.set(where, p.appliedIndex);
    const k = `${p.regionId}:${p.appliedIndex}`;
    const hash = dumpRaw(p, this.keys);
    const who = `peer ${p.peerId} on store ${storeId}`;
    const prev = this.appliedHashes.get(k);
    if (!prev) this.appliedHashes.set(k, { hash, peer: who });
    else if (prev.hash !== hash) {
      throw new InvariantViolation(
        `region ${p.regionId} at apply index ${p.appliedIndex}: ${who} holds other data than ${prev.peer} (${rowsText(hash)} there, ${rowsText(prev.hash)} before)`,
      );
    }
  }

  /** The newest epoch of each Region any live store knows must tile ["", "") exactly. */
  private checkTiling(always: boolean): void {
    let changed = always;
    for (const s of this.cluster.stores.values()) {
      if (!s.up) continue;
      for (const p of s.store.peers.values()) {
        if (this.seenRegionMeta.has(p.region)) continue;
        this.seenRegionMeta.add(p.region);
        changed = true;
      }
    }
    if (!changed) return;
    const rs = this.cluster.newestRegions();
    if (rs.length === 0) return;
    let expect: Buffer = Buffer.alloc(0);
    for (const r of rs) {
      if (!r.startKey.equals(expect)) {
        throw new InvariantViolation(
          `regions do not tile the key space: region ${r.id} starts at ${JSON.stringify(r.startKey.toString())}, expected ${JSON.stringify(expect.toString())}`,
        );
      }
      if (r.endKey.length === 0 && r !== rs[rs.length - 1]) {
        throw new InvariantViolation(`region ${r.id} ends at +inf but is not the last region`);
      }
      expect = r.endKey;
    }
    if (expect.length !== 0) {
      throw new InvariantViolation(`the last region ends at ${JSON.stringify(expect.toString())}`);
    }
  }

  get leaderTerms(): number {
    return this.leaders.size;
  }
}

/** Rows as dumpRaw() writes them, readable: hex keys and values back to text. */
function rowsText(dump: string): string {
  if (dump === '') return 'no rows';
  return dump
    .split(',')
    .map((kv) =>
      kv
        .split('=')
        .map((h) => Buffer.from(h, 'hex').toString())
        .join('='),
    )
    .join(' ');
}
