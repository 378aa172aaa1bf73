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

export class Workload {
  readonly op: BenchOp;
  readonly keys: number;
  readonly valueSize: number;
  readonly readRatio: number;
  private readonly prefix: string;
  private readonly width: number;
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
    this.prefix = o.prefix ?? 'bench/';
    this.width = String(o.keys - 1).length;
    this.pool = randomBytes(POOL_BYTES + o.valueSize);
  }

  /** Whether the keys must exist before measuring (every read should find its key). */
  get needsPreload(): boolean {
    return this.readRatio > 0;
  }

  keyAt(i: number): Buffer {
    return Buffer.from(this.prefix + String(i).padStart(this.width, '0'));
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
