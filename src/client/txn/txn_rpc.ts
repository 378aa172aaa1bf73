// The transactional requests' routing: locate a key's Region, send, and on a region
// error (already repaired in the cache by the sender) locate again and resend. Every
// transactional action is idempotent for a given start_ts (Percolator §2.2; TiKV's
// prewrite and commit check the lock's start_ts), so a resend after a lost answer is
// safe without session numbers, and a retried prewrite reuses the same start_ts: one
// transaction never becomes two.
import type { Context } from '../../proto-gen/nyx/kv/Context.js';
import type { Backoffer } from '../backoff.js';
import type { KvCommand, KvRequest, KvResponse } from '../kv_connection.js';
import type { RegionLocation } from '../region_cache.js';
import type { RegionRequestSender } from '../region_request.js';

const cmp = Buffer.compare;

export interface RegionBatch<T> {
  loc: RegionLocation;
  items: T[];
}

function inRegion(key: Buffer, loc: RegionLocation): boolean {
  return (
    cmp(key, loc.region.startKey) >= 0 &&
    (loc.region.endKey.length === 0 || cmp(key, loc.region.endKey) < 0)
  );
}

/** Splits items into runs of at most maxKeys items. */
function chunk<T>(items: T[], maxKeys: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += maxKeys) out.push(items.slice(i, i + maxKeys));
  return out;
}

export class TxnRpc {
  constructor(
    readonly sender: RegionRequestSender,
    /** Keys per request of a batch action (prewrite, commit, batch get, ...). */
    readonly maxBatchKeys: number,
  ) {}

  /** Sends one request for key's Region until it gets an answer without a region error. */
  async onKey<C extends KvCommand>(
    bo: Backoffer,
    key: Buffer,
    cmd: C,
    build: (ctx: Context, loc: RegionLocation) => KvRequest<C>,
  ): Promise<{ resp: KvResponse<C>; loc: RegionLocation }> {
    for (;;) {
      const loc = await this.sender.locateKey(bo, key);
      const resp = await this.sender.send(bo, loc, cmd, (ctx) => build(ctx, loc));
      if (resp !== undefined) return { resp, loc };
    }
  }

  /** Groups items (sorted or not) by the Region of their key, chunked per request. */
  async group<T>(bo: Backoffer, items: T[], keyOf: (t: T) => Buffer): Promise<RegionBatch<T>[]> {
    const groups = new Map<number, RegionBatch<T>>();
    let last: RegionLocation | undefined;
    for (const it of items) {
      const k = keyOf(it);
      const loc = last && inRegion(k, last) ? last : await this.sender.locateKey(bo, k);
      last = loc;
      let g = groups.get(loc.region.id);
      if (!g) groups.set(loc.region.id, (g = { loc, items: [] }));
      g.items.push(it);
    }
    const out: RegionBatch<T>[] = [];
    for (const g of groups.values()) {
      for (const c of chunk(g.items, this.maxBatchKeys)) out.push({ loc: g.loc, items: c });
    }
    return out;
  }

  /**
   * Runs attempt for every Region batch of items, in parallel. An attempt that returns
   * false had a region error: its items are grouped again (the Region may have split or
   * merged) and retried under a fork of the same backoffer.
   */
  async forEachRegion<T>(
    bo: Backoffer,
    items: T[],
    keyOf: (t: T) => Buffer,
    attempt: (bo: Backoffer, batch: RegionBatch<T>) => Promise<boolean>,
  ): Promise<void> {
    const batches = await this.group(bo, items, keyOf);
    await Promise.all(
      batches.map(async (b) => {
        const sub = bo.fork();
        if (!(await attempt(sub, b))) await this.forEachRegion(sub, b.items, keyOf, attempt);
      }),
    );
  }

  /** One attempt at a batch's Region: the response, or undefined after a region error. */
  send<C extends KvCommand>(
    bo: Backoffer,
    loc: RegionLocation,
    cmd: C,
    build: (ctx: Context) => KvRequest<C>,
  ): Promise<KvResponse<C> | undefined> {
    return this.sender.send(bo, loc, cmd, build);
  }
}
