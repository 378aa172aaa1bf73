// The split checker (TiKV's split-check worker, by size and by key count): on a timer,
// every Region this store leads whose data changed since its last check is measured, and
// one that grew past region-max-size or region-max-keys is split into pieces of about
// region-split-size / region-split-keys, in one batch split (split_runner.ts).
//
// Measuring is cheap on purpose: the size is SQLite's page count of the Region's file (no
// scan), the key count one COUNT of the raw table, and the split keys one OFFSET lookup
// per piece. Keys count raw keys and transactional versions (write records) alike; the
// split keys come from whichever of the two tables holds more rows, an MVCC row decoded
// to its user key (src/txn/mvcc/key_codec.ts), so every table is cut at user keys.
import { Region } from '../region/meta.js';
import { estimateRegionSize, keysAtOffsets } from '../storage/region_split.js';
import { decodeVersionKey } from '../txn/mvcc/key_codec.js';
import { MAX_SPLITS_PER_COMMAND } from './cmd/command.js';
import { RegionPeer } from './peer.js';
import { RaftStore } from './raft_store.js';
import { SplitRunner, describeSplitFailure } from './split_runner.js';

/** When a Region splits, and into what (TiKV's coprocessor.region-*; PD's configuration). */
export interface SplitThresholds {
  /** A Region larger than this (bytes) is split ... */
  regionMaxSize: number;
  /** ... into pieces of about this size. */
  regionSplitSize: number;
  /** A Region with more keys than this is split ... */
  regionMaxKeys: number;
  /** ... into pieces of about this many keys. */
  regionSplitKeys: number;
}

/** TiKV's defaults. */
export const DEFAULT_SPLIT_THRESHOLDS: SplitThresholds = {
  regionMaxSize: 144 << 20,
  regionSplitSize: 96 << 20,
  regionMaxKeys: 1_440_000,
  regionSplitKeys: 960_000,
};

/**
 * Where to cut a Region of `bytes` bytes and `keys` raw keys: row offsets of the split
 * keys, or none when it is within both limits. The criterion that asks for more pieces
 * wins; at most MAX_SPLITS_PER_COMMAND cuts at once (the rest follows at the next check).
 */
export function splitOffsets(bytes: number, keys: number, t: SplitThresholds): number[] {
  const bySize = bytes > t.regionMaxSize ? Math.ceil(bytes / t.regionSplitSize) : 1;
  const byKeys = keys > t.regionMaxKeys ? Math.ceil(keys / t.regionSplitKeys) : 1;
  const pieces = Math.min(Math.max(bySize, byKeys), MAX_SPLITS_PER_COMMAND + 1);
  if (pieces <= 1 || keys < 2) return [];
  const offsets: number[] = [];
  for (let i = 1; i < pieces; i++) offsets.push(Math.floor((keys * i) / pieces));
  return [...new Set(offsets)].filter((o) => o > 0 && o < keys);
}

export class SplitChecker {
  /** Applied index at each Region's last check: unchanged data needs no new look. */
  private readonly checkedAt = new Map<number, number>();
  private readonly inFlight = new Set<number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: RaftStore,
    private readonly runner: SplitRunner,
    /** Read at every check: PD configuration can change them at run time. */
    private readonly thresholds: () => SplitThresholds,
    private readonly intervalMs: number,
    private readonly log: (obj: object, msg: string) => void,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.checkAll(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** One round over the Regions this store leads. */
  checkAll(): void {
    const t = this.thresholds();
    for (const p of this.store.peers.values()) {
      if (!p.isLeader() || this.inFlight.has(p.regionId)) continue;
      if (this.checkedAt.get(p.regionId) === p.appliedIndex) continue;
      this.checkedAt.set(p.regionId, p.appliedIndex);
      if (p.engine.pristine) {
        p.sizeEstimate = { bytes: 0, keys: 0 }; // a bootstrapped Region that holds nothing yet
        continue;
      }
      const keys = this.splitKeys(p, t);
      if (keys.length > 0) this.split(p, keys);
    }
    for (const id of this.checkedAt.keys())
      if (!this.store.peers.has(id)) this.checkedAt.delete(id);
  }

  /** The split keys of a leader's Region under `t`, none if it is small enough. */
  splitKeys(p: RegionPeer, t: SplitThresholds): Buffer[] {
    const est = estimateRegionSize(p.engine);
    // Rows count as keys: raw keys, and the versions of transactional keys (write records).
    const versions = estimateRegionSize(p.engine, 'write').keys;
    p.sizeEstimate = { bytes: est.bytes, keys: est.keys + versions };
    const cuts = splitOffsets(est.bytes, est.keys + versions, t).length;
    if (cuts === 0) return [];
    // Cut by whichever kind of data dominates the Region; an MVCC row key decodes to the
    // user key it versions, so a cut never separates the versions of one key.
    const table = versions > est.keys ? 'write' : 'raw';
    const rows = Math.max(est.keys, versions);
    const offsets = Array.from({ length: cuts }, (_, i) =>
      Math.floor((rows * (i + 1)) / (cuts + 1)),
    );
    const found = keysAtOffsets(p.engine, table, offsets);
    const keys = table === 'write' ? found.map((k) => decodeVersionKey(k).key) : found;
    const region: Region = p.region;
    return keys.filter(
      (k, i, all) => !k.equals(region.startKey) && (i === 0 || !k.equals(all[i - 1]!)),
    );
  }

  private split(p: RegionPeer, keys: Buffer[]): void {
    const regionId = p.regionId;
    this.inFlight.add(regionId);
    this.log({ regionId, keys: keys.length }, 'split checker: region over its limits');
    this.runner
      .split(regionId, keys, p.region.epoch)
      .catch((e: unknown) => {
        // Lost leadership, a stale epoch, PD away: the next round looks again.
        this.checkedAt.delete(regionId);
        this.log({ regionId, err: describeSplitFailure(e) }, 'split checker: split failed');
      })
      .finally(() => this.inFlight.delete(regionId));
  }
}
