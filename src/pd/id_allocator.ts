// Unique ids for stores, Regions and peers. Ids are handed out from a batch whose end is
// persisted (and fsynced) before any id of the batch leaves the process, so after a crash
// PD resumes above the saved end and never repeats an id — at the cost of skipping the
// unused rest of the batch, which is harmless (ids need to be unique, not dense).

import type { IdEndStore } from './meta_store.js';

export const DEFAULT_ID_BATCH = 1000;

export class IdAllocator {
  /** The last id handed out (0 before any). */
  private current: number;
  /** Every id <= end is covered by a persisted batch. */
  private end: number;

  constructor(
    private readonly store: IdEndStore,
    private readonly step: number = DEFAULT_ID_BATCH,
  ) {
    if (!Number.isSafeInteger(step) || step < 1) throw new RangeError(`bad id batch step ${step}`);
    // Start above everything a previous incarnation may have handed out.
    this.end = store.loadIdEnd();
    this.current = this.end;
  }

  /**
   * Every id this PD (or an earlier incarnation) ever handed out is <= this. An id above
   * it in a report was invented, not allocated.
   */
  get highWater(): number {
    return this.end;
  }

  alloc(): number {
    if (this.current >= this.end) {
      const next = this.end + this.step;
      this.store.saveIdEnd(next); // durable before any id below it is returned
      this.end = next;
    }
    this.current += 1;
    return this.current;
  }

  /** n fresh ids, increasing. */
  allocMany(n: number): number[] {
    const ids: number[] = [];
    for (let i = 0; i < n; i++) ids.push(this.alloc());
    return ids;
  }
}
