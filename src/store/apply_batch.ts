// The writes of one loop turn's committed entries for one Region, collected so that they and
// the new apply state go to the Region engine in one transaction. Reads made while applying
// (compare-and-swap) must see the writes of earlier entries in the same batch, so the batch
// keeps an overlay of what it changed.
import { KvPair, RegionEngine, WriteOp } from '../storage/region_engine.js';
import { ApplyState, MergeState } from '../storage/region_state.js';
import { Table } from '../storage/region_schema.js';
import { Region } from '../region/meta.js';

export class ApplyBatch {
  readonly ops: WriteOp[] = [];
  /** table + key (latin1) → value, or null if deleted in this batch. */
  private overlay = new Map<string, Buffer | null>();
  private deletedRanges: { table: Table; start: Buffer; end: Buffer }[] = [];

  /** The Region's new meta (a conf change), written in the same transaction. */
  private region: Region | undefined;
  /** The merge fence the Region has now, kept with its new meta (merge_apply.ts). */
  private merging: MergeState | undefined;

  constructor(private readonly engine: RegionEngine) {}

  setRegion(r: Region, merging?: MergeState): void {
    this.region = r;
    this.merging = merging;
  }

  private static slot(table: Table, key: Buffer): string {
    return `${table}\u0000${key.toString('latin1')}`;
  }

  put(table: Table, key: Buffer, value: Buffer): void {
    this.ops.push({ op: 'put', table, key, value });
    this.overlay.set(ApplyBatch.slot(table, key), value);
  }

  delete(table: Table, key: Buffer): void {
    this.ops.push({ op: 'delete', table, key });
    this.overlay.set(ApplyBatch.slot(table, key), null);
  }

  deleteRange(table: Table, start: Buffer, end: Buffer): void {
    this.ops.push({ op: 'deleteRange', table, start, end });
    // Later puts in the batch win over the range; earlier ones are deleted by it.
    for (const k of [...this.overlay.keys()]) {
      if (!k.startsWith(`${table}\u0000`)) continue;
      const key = Buffer.from(k.slice(table.length + 1), 'latin1');
      if (inRange(key, start, end)) this.overlay.set(k, null);
    }
    this.deletedRanges.push({ table, start, end });
  }

  /** The value as of the batch so far. */
  get(table: Table, key: Buffer): Buffer | undefined {
    const o = this.overlay.get(ApplyBatch.slot(table, key));
    if (o !== undefined) return o ?? undefined;
    if (this.deletedRanges.some((r) => r.table === table && inRange(key, r.start, r.end)))
      return undefined;
    return this.engine.get(table, key);
  }

  /** Every row of a table as committed before this batch (the batch's own writes unseen). */
  engineScan(table: Table): KvPair[] {
    return this.engine.scan({ table });
  }

  commit(applyState: ApplyState): void {
    this.engine.applyBatch(
      this.ops,
      applyState,
      this.region && {
        region: this.region,
        tombstone: false,
        ...(this.merging ? { merging: this.merging } : {}),
      },
    );
  }
}

function inRange(key: Buffer, start: Buffer, end: Buffer): boolean {
  return Buffer.compare(key, start) >= 0 && (end.length === 0 || Buffer.compare(key, end) < 0);
}
