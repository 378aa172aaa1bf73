// Load split (TiKV's load-base-split, raftstore/store/worker/split_controller.rs): once a
// second the controller takes each led Region's window of read load (region_flow.ts: writes
// are not in it, as in TiKV). A Region that served more than split-qps-threshold read
// requests or split-byte-threshold bytes a second
// for split-detect-times windows in a row is split at a key chosen from the accesses
// sampled over those windows, so that about as much load falls left of it as right of it.
// The split goes through the same runner (PD-assigned ids, one batch split entry) as the
// size checker's. A window under both thresholds starts the count again.
//
// The key (chooseLoadSplitKey) is picked as TiKV picks it: each candidate key is scored by
// how evenly the sampled accesses fall on its two sides (balance score |L - R| / (L + R),
// at most SPLIT_BALANCE_SCORE) and by how many ranges it would cut (contained score
// C / (L + R + C), at most SPLIT_CONTAINED_SCORE); the best balanced one wins. A Region
// whose load is one key (or ranges no key divides) is not split: no cut would spread it.
import type { Region } from '../region/meta.js';
import type { KeyAccess } from './region_flow.js';
import type { RaftStore } from './raft_store.js';
import { describeSplitFailure, type SplitRunner } from './split_runner.js';

/** TiKV's split.split-balance-score and split.split-contained-score. */
export const SPLIT_BALANCE_SCORE = 0.25;
export const SPLIT_CONTAINED_SCORE = 0.5;
/** Accesses kept per Region across its detection windows. */
export const MAX_RECORDED_SAMPLES = 1024;
/** Candidate keys scored per choice (spread over the sorted sample). */
export const MAX_CANDIDATES = 64;

export interface LoadSplitThresholds {
  /** Requests per second. */
  qps: number;
  /** Bytes per second. */
  bytes: number;
  /** Windows (seconds) in a row over a threshold. */
  detectTimes: number;
}

export interface LoadSplitChoice {
  key: Buffer;
  left: number;
  right: number;
  contained: number;
}

/** Where an access falls against a candidate split key. */
function side(a: KeyAccess, key: Buffer): 'left' | 'right' | 'contained' {
  if (Buffer.compare(a.start, key) >= 0) return 'right';
  // A point left of the key, or a range that ends at or before it.
  if (a.end === undefined) return 'left';
  if (a.end.length > 0 && Buffer.compare(a.end, key) <= 0) return 'left';
  return 'contained';
}

function inside(key: Buffer, r: Pick<Region, 'startKey' | 'endKey'>): boolean {
  return (
    Buffer.compare(key, r.startKey) > 0 &&
    (r.endKey.length === 0 || Buffer.compare(key, r.endKey) < 0)
  );
}

/**
 * The key that splits the sampled load most evenly, strictly inside the Region (never at
 * its edges, so both halves are non-empty ranges), or undefined when no key is balanced
 * enough.
 */
export function chooseLoadSplitKey(
  samples: readonly KeyAccess[],
  region: Pick<Region, 'startKey' | 'endKey'>,
): LoadSplitChoice | undefined {
  const keys = [...new Map(samples.map((a) => [a.start.toString('latin1'), a.start])).values()]
    .filter((k) => inside(k, region))
    .sort(Buffer.compare);
  if (keys.length === 0) return undefined;
  const step = Math.max(1, Math.floor(keys.length / MAX_CANDIDATES));
  let best: (LoadSplitChoice & { balance: number }) | undefined;
  for (let i = 0; i < keys.length; i += step) {
    const key = keys[i]!;
    let left = 0;
    let right = 0;
    let contained = 0;
    for (const a of samples) {
      const s = side(a, key);
      if (s === 'left') left++;
      else if (s === 'right') right++;
      else contained++;
    }
    if (left === 0 || right === 0) continue;
    const balance = Math.abs(left - right) / (left + right);
    if (balance > SPLIT_BALANCE_SCORE) continue;
    if (contained / (left + right + contained) > SPLIT_CONTAINED_SCORE) continue;
    if (!best || balance < best.balance || (balance === best.balance && contained < best.contained))
      best = { key, left, right, contained, balance };
  }
  return best && { key: best.key, left: best.left, right: best.right, contained: best.contained };
}

interface Recorder {
  /** The Region's version when detection started: a split or merge starts it again. */
  version: number;
  times: number;
  samples: KeyAccess[];
}

export class LoadSplitController {
  private readonly recorders = new Map<number, Recorder>();
  private readonly inFlight = new Set<number>();
  private lastTickMs: number;
  private timer: NodeJS.Timeout | undefined;
  /** Splits started by load, for metrics. */
  onSplit: (regionId: number) => void = () => undefined;

  constructor(
    private readonly store: RaftStore,
    private readonly runner: SplitRunner,
    /** Read every window: PD configuration can change them at run time. */
    private readonly thresholds: () => LoadSplitThresholds,
    private readonly log: (obj: object, msg: string) => void,
    private readonly now: () => number = Date.now,
    private readonly windowMs = 1000,
  ) {
    this.lastTickMs = now();
  }

  start(): void {
    this.timer = setInterval(() => this.tick(), this.windowMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** One window: judge every Region that served load; returns the Regions it split. */
  tick(): number[] {
    const now = this.now();
    const secs = Math.max(1, now - this.lastTickMs) / 1000;
    this.lastTickMs = now;
    const t = this.thresholds();
    const started: number[] = [];
    for (const id of this.store.flow.regionIds()) {
      const w = this.store.flow.takeWindow(id);
      const p = this.store.peers.get(id);
      if (!p || !p.isLeader() || this.inFlight.has(id)) {
        this.recorders.delete(id);
        continue;
      }
      const over = w.requests / secs >= t.qps || w.bytes / secs >= t.bytes;
      if (!over) {
        this.recorders.delete(id);
        continue;
      }
      const version = p.region.epoch.version;
      let rec = this.recorders.get(id);
      if (!rec || rec.version !== version) {
        rec = { version, times: 0, samples: [] };
        this.recorders.set(id, rec);
      }
      rec.times += 1;
      rec.samples.push(...w.samples);
      if (rec.samples.length > MAX_RECORDED_SAMPLES)
        rec.samples = rec.samples.slice(rec.samples.length - MAX_RECORDED_SAMPLES);
      if (rec.times < t.detectTimes) continue;
      this.recorders.delete(id);
      const choice = chooseLoadSplitKey(rec.samples, p.region);
      if (!choice) {
        this.log(
          { regionId: id, samples: rec.samples.length },
          'load split: region is hot, but no key balances its load',
        );
        continue;
      }
      this.split(id, choice, p.region);
      started.push(id);
    }
    for (const id of this.recorders.keys())
      if (!this.store.peers.has(id)) this.recorders.delete(id);
    return started;
  }

  private split(regionId: number, c: LoadSplitChoice, region: Region): void {
    this.inFlight.add(regionId);
    this.onSplit(regionId);
    this.log(
      {
        regionId,
        key: c.key.toString('hex'),
        left: c.left,
        right: c.right,
        contained: c.contained,
      },
      'load split: region over its load threshold',
    );
    this.runner
      .split(regionId, [c.key], region.epoch)
      .catch((e: unknown) =>
        this.log({ regionId, err: describeSplitFailure(e) }, 'load split: split failed'),
      )
      .finally(() => this.inFlight.delete(regionId));
  }
}
