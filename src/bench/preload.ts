// Writes every key of the workload once before a read benchmark, so each get finds a
// value of the benchmark's size. Bulk writes where the store has them (a NyxDB batchPut
// of 1000 pairs is one Raft entry), else many concurrent single puts.
import type { KvTarget } from './target.js';
import type { Workload } from './workload.js';

export interface PreloadOptions {
  batchSize?: number;
  /** Requests in flight at once. */
  parallel?: number;
}

export async function preload(
  target: KvTarget,
  workload: Workload,
  opts: PreloadOptions = {},
): Promise<void> {
  const batchSize = target.batchPut ? (opts.batchSize ?? 1000) : 1;
  const parallel = opts.parallel ?? (target.batchPut ? 4 : 64);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < workload.keys) {
      const from = next;
      const to = Math.min(workload.keys, from + batchSize);
      next = to;
      if (target.batchPut) {
        const pairs: [Buffer, Buffer][] = [];
        for (let i = from; i < to; i++) pairs.push([workload.keyAt(i), workload.value()]);
        await target.batchPut(pairs);
      } else {
        await target.put(workload.keyAt(from), workload.value());
      }
    }
  };
  await Promise.all(Array.from({ length: parallel }, () => lane()));
}
