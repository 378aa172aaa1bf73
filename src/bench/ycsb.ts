// The YCSB core workloads A–F (Cooper et al., "Benchmarking Cloud Serving Systems with
// YCSB", SoCC 2010; YCSB's workloads/workload[a-f]) over RawKV:
//
//   a  update heavy   50% read, 50% update                  zipfian
//   b  read mostly    95% read, 5% update                   zipfian
//   c  read only      100% read                             zipfian
//   d  read latest    95% read, 5% insert                   latest
//   e  short ranges   95% scan (1..100 records), 5% insert  zipfian
//   f  read-modify-write  50% read, 50% read-modify-write   zipfian
//
// Records are user<N> keys (hashed order, as YCSB's "hashed" insert order) with one
// value of --value-size bytes (YCSB: 10 fields of 100 bytes; one field keeps it a KV
// benchmark). The load phase writes --records records first.
import { randomBytes } from 'node:crypto';
import type { RawClient } from '../client/raw_client.js';
import type { BenchOperation } from './op_runner.js';
import { Zipfian, scramble } from './zipfian.js';

export const YCSB_WORKLOADS = ['a', 'b', 'c', 'd', 'e', 'f'] as const;
export type YcsbWorkloadName = (typeof YCSB_WORKLOADS)[number];

type OpKind = 'read' | 'update' | 'insert' | 'scan' | 'rmw';

/** The operation mix of each workload: [kind, proportion]. */
export const YCSB_MIX: Record<YcsbWorkloadName, [OpKind, number][]> = {
  a: [
    ['read', 0.5],
    ['update', 0.5],
  ],
  b: [
    ['read', 0.95],
    ['update', 0.05],
  ],
  c: [['read', 1]],
  d: [
    ['read', 0.95],
    ['insert', 0.05],
  ],
  e: [
    ['scan', 0.95],
    ['insert', 0.05],
  ],
  f: [
    ['read', 0.5],
    ['rmw', 0.5],
  ],
};

const MAX_SCAN_LENGTH = 100;
const POOL = 1 << 20;

export interface YcsbOptions {
  records: number;
  valueSize: number;
  random?: () => number;
}

export class YcsbWorkload {
  /** Records that exist: the load phase's, then every insert's. */
  private count: number;
  private readonly zipf: Zipfian;
  private readonly pool: Buffer;
  private readonly random: () => number;

  constructor(
    readonly name: YcsbWorkloadName,
    private readonly client: RawClient,
    private readonly o: YcsbOptions,
  ) {
    if (!Number.isInteger(o.records) || o.records < 1) throw new RangeError('records must be >= 1');
    this.count = o.records;
    this.random = o.random ?? Math.random;
    this.zipf = new Zipfian(o.records, undefined, this.random);
    this.pool = randomBytes(POOL + o.valueSize);
  }

  /** YCSB's key for record i: "user" and a hash of i, so inserts do not all go to the end. */
  static key(i: number): Buffer {
    return Buffer.from(`user${scramble(i, 0x7fffffff).toString().padStart(10, '0')}${i}`);
  }

  private value(): Buffer {
    const at = Math.floor(this.random() * POOL);
    return this.pool.subarray(at, at + this.o.valueSize);
  }

  /** An existing record: zipfian over the loaded ones, or "latest" for workload d. */
  private chooseRecord(): number {
    const z = this.zipf.next();
    if (this.name === 'd') return Math.max(0, this.count - 1 - z);
    return scramble(z, this.o.records);
  }

  private pickKind(): OpKind {
    let u = this.random();
    for (const [kind, p] of YCSB_MIX[this.name]) {
      if (u < p) return kind;
      u -= p;
    }
    return YCSB_MIX[this.name][0]![0];
  }

  /** The load phase: every record once, in bulk. */
  async load(parallel = 4, batch = 500): Promise<void> {
    let next = 0;
    const lane = async () => {
      while (next < this.o.records) {
        const from = next;
        const to = Math.min(this.o.records, from + batch);
        next = to;
        const pairs: [Buffer, Buffer][] = [];
        for (let i = from; i < to; i++) pairs.push([YcsbWorkload.key(i), this.value()]);
        await this.client.batchPut(pairs);
      }
    };
    await Promise.all(Array.from({ length: parallel }, () => lane()));
  }

  next(): BenchOperation {
    const kind = this.pickKind();
    const c = this.client;
    switch (kind) {
      case 'read':
        return { kind, run: () => c.get(YcsbWorkload.key(this.chooseRecord())) };
      case 'update':
        return { kind, run: () => c.put(YcsbWorkload.key(this.chooseRecord()), this.value()) };
      case 'insert': {
        const i = this.count++;
        return { kind, run: () => c.put(YcsbWorkload.key(i), this.value()) };
      }
      case 'scan': {
        const start = YcsbWorkload.key(this.chooseRecord());
        const limit = 1 + Math.floor(this.random() * MAX_SCAN_LENGTH);
        return { kind, run: () => c.scan(start, undefined, { limit }) };
      }
      case 'rmw': {
        const key = YcsbWorkload.key(this.chooseRecord());
        return {
          kind,
          run: async () => {
            await c.get(key);
            await c.put(key, this.value());
          },
        };
      }
    }
  }
}
