// What a benchmark does: the key space, the values and the mix of operations. Keys are
// drawn uniformly from N fixed-width keys; values are fixed-size slices of one random
// pool (cheap per operation, yet not compressible or all alike).
import { randomBytes } from 'node:crypto';

export type BenchOp = 'put' | 'get' | 'mixed';

export interface WorkloadOptions {
  op: BenchOp;
  /** How many distinct keys. */
  keys: number;
  valueSize: number;
  /** For mixed: the fraction of operations that are gets. */
  readRatio: number;
  /** Key prefix, so a benchmark's keys are recognisable and do not mix with others. */
  prefix?: string;
}

const POOL_BYTES = 1 << 20;
export const DEFAULT_KEY_PREFIX = 'bench/';

/** Key i of a workload of `keys` keys: the prefix and i zero-padded to a fixed width. */
export function workloadKey(i: number, keys: number, prefix = DEFAULT_KEY_PREFIX): string {
  return prefix + String(i).padStart(String(keys - 1).length, '0');
}

/**
 * The split keys that cut a workload's key space into `regions` Regions holding equal
 * shares of its keys: key floor(i * keys / regions) starts Region i. A layout cut
 * anywhere else (the two-byte even splits put every `bench/…` key in one Region) would
 * benchmark one Region however many there are.
 */
export function workloadSplitKeys(
  regions: number,
  keys: number,
  prefix = DEFAULT_KEY_PREFIX,
): string[] {
  if (!Number.isInteger(regions) || regions < 1) throw new Error('regions must be at least 1');
  if (regions > keys) throw new Error(`cannot cut ${keys} keys into ${regions} Regions`);
  const out: string[] = [];
  for (let i = 1; i < regions; i++)
    out.push(workloadKey(Math.floor((i * keys) / regions), keys, prefix));
  return out;
}

export class Workload {
  readonly op: BenchOp;
  readonly keys: number;
  readonly valueSize: number;
  readonly readRatio: number;
  private readonly prefix: string;
  private readonly pool: Buffer;

  constructor(o: WorkloadOptions) {
    if (!Number.isInteger(o.keys) || o.keys < 1) throw new Error('keys must be at least 1');
    if (!Number.isInteger(o.valueSize) || o.valueSize < 0)
      throw new Error('value size must not be negative');
    if (!(o.readRatio >= 0 && o.readRatio <= 1)) throw new Error('read ratio must be in [0, 1]');
    this.op = o.op;
    this.keys = o.keys;
    this.valueSize = o.valueSize;
    this.readRatio = o.op === 'get' ? 1 : o.op === 'put' ? 0 : o.readRatio;
    this.prefix = o.prefix ?? DEFAULT_KEY_PREFIX;
    this.pool = randomBytes(POOL_BYTES + o.valueSize);
  }

  /** Whether the keys must exist before measuring (every read should find its key). */
  get needsPreload(): boolean {
    return this.readRatio > 0;
  }

  keyAt(i: number): Buffer {
    return Buffer.from(workloadKey(i, this.keys, this.prefix));
  }

  randomKey(): Buffer {
    return this.keyAt(Math.floor(Math.random() * this.keys));
  }

  /** A fresh-looking value: a slice of the random pool at a random offset (no copy). */
  value(): Buffer {
    const at = Math.floor(Math.random() * POOL_BYTES);
    return this.pool.subarray(at, at + this.valueSize);
  }

  /** The next operation to issue. */
  nextIsGet(): boolean {
    return this.readRatio >= 1 || (this.readRatio > 0 && Math.random() < this.readRatio);
  }
}
