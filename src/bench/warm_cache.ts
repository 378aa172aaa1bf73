// Before the workers start: find every Region of the workload's key space one lookup
// at a time, by reading a few keys spread over it in order. C workers starting together
// on a cold Region cache would otherwise send up to C PD lookups at once (the cache does
// not merge concurrent misses), and on a loaded machine that burst can time out at PD
// for the whole run — a benchmark of PD lookups, not of the store.
import type { KvTarget } from './target.js';
import type { Workload } from './workload.js';

/** Keys read: enough to land in each of up to this many equal Regions. */
export const WARM_PROBES = 64;

export async function warmRegionCache(target: KvTarget, workload: Workload): Promise<void> {
  const probes = Math.min(WARM_PROBES, workload.keys);
  for (let i = 0; i < probes; i++) {
    await target.get(workload.keyAt(Math.floor((i * workload.keys) / probes)));
  }
}
