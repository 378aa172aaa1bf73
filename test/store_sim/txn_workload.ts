// Transactions in the store simulation: the SDK's own TxnClient (committer, lock resolver,
// region cache, backoff — src/client/txn/) runs Elle's list-append workload against the
// simulated stores, its requests encoded as on the wire and carried by the simulated
// network (sim_kv_channels.ts), its timestamps from PD's TSO (sim_pd.ts), its clock the
// world's. The stores run the real TxnKv and Percolator actions through Raft, across the
// same crashes, partitions, pauses, disk errors, splits, merges and membership steps as
// the RawKV clients. After healing, one transaction reads every list, and
//   - the history has no G0, G1a, G1b, G1c or G-single (snapshot isolation), and
//   - every append of a committed transaction is in that final read,
// both checked by the chaos suite's own verdict (test/chaos/txn_verdicts.ts).
// A transaction still running when the clients stop is recorded as unknown (info).
import { TxnClient } from '../../src/client/txn/txn_client.js';
import type { Txn } from '../check/list_append/history.js';
import { verifyAppend } from '../chaos/txn_verdicts.js';
import { listAppendPlan, listAppendTxn } from '../integration/txn_workloads.js';
import type { SimCluster } from './cluster.js';
import { SimKvChannels } from './sim_kv_channels.js';
import { SimWorld, simClientClock } from './world.js';

/** Client-side timing scaled to the simulation's 20 ms Raft tick (production: 100 ms). */
const SIM_TXN_CLIENT = {
  timeoutMs: 1_500,
  rpcTimeoutMs: 300,
  lockTtlMs: 300,
  lockWaitMs: 300,
};
const THINK_MS = 20;

export interface TxnWorkloadOptions {
  clients: number;
  /** The lists; spread over the workload's keys so that transactions span Regions. */
  keys: string[];
}

export class TxnWorkload {
  readonly history: Txn[] = [];
  private readonly clients: TxnClient[];
  private readonly channels: SimKvChannels;
  private stopped = false;
  private nextId = 1;
  private nextValue = 1;
  /** Transactions begun and not yet ended: unknown if the run stops under them. */
  private readonly running = new Map<number, Txn>();
  private finalReads: Map<string, number[]> | undefined;

  constructor(
    private readonly world: SimWorld,
    cluster: SimCluster,
    private readonly opts: TxnWorkloadOptions,
  ) {
    this.channels = new SimKvChannels(cluster);
    const clock = simClientClock(world);
    // Half the clients commit single-Region transactions in one phase (1PC), the others
    // always by two phases; each transaction picks async commit or not.
    this.clients = Array.from(
      { length: opts.clients },
      (_, i) =>
        new TxnClient(cluster.pd, {
          ...SIM_TXN_CLIENT,
          channels: this.channels,
          clock,
          onePC: i % 2 === 0,
        }),
    );
  }

  start(): void {
    this.clients.forEach((c, i) => void this.loop(c, i));
  }

  private async loop(client: TxnClient, i: number): Promise<void> {
    const rng = this.world.rng;
    const clock = simClientClock(this.world);
    await clock.sleep(rng.float() * 10);
    while (!this.stopped) {
      const plan = listAppendPlan(
        this.opts.keys,
        () => rng.float(),
        () => this.nextValue++,
      );
      const id = this.nextId++;
      const appends = plan.filter((p) => p.append !== undefined);
      this.running.set(id, {
        id,
        status: 'info',
        ops: appends.map((p) => ({ f: 'append', key: p.key, value: p.append! })),
      });
      // Async commit or not; pessimistic (locks taken at each write) or optimistic.
      const options = { asyncCommit: rng.chance(0.5), pessimistic: rng.chance(0.3) };
      try {
        const r = await listAppendTxn(client, id, plan, options);
        if (this.stopped) return; // already recorded as unknown
        this.running.delete(id);
        this.history.push(r.txn);
        this.world.trace?.(
          `${this.world.now.toFixed(3)} txn client ${i} T${id} ${r.txn.status}` +
            (r.cause ? ` (${r.cause.message})` : ''),
        );
      } catch (e) {
        // begin() found no timestamp: nothing was written.
        if (this.stopped) return;
        this.running.delete(id);
        this.history.push({ id, status: 'fail', ops: [] });
        this.world.trace?.(`${this.world.now.toFixed(3)} txn client ${i} T${id} no begin: ${e}`);
      }
      await clock.sleep(rng.float() * THINK_MS);
    }
  }

  /** No new transactions; those still running are unknown. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of this.running.values()) this.history.push(t);
    this.running.clear();
  }

  /**
   * After the stop: one transaction reads every list, retried until it commits (then
   * finalReadDone); the caller bounds the wait. A failed attempt read nothing that counts
   * and stays out of the history.
   */
  async finalRead(): Promise<void> {
    const plan = this.opts.keys.map((key) => ({ key, append: undefined }));
    const clock = simClientClock(this.world);
    for (;;) {
      const id = this.nextId++;
      const r = await listAppendTxn(this.clients[0]!, id, plan, {}).catch((e: Error) => e);
      if (!(r instanceof Error) && r.txn.status === 'ok') {
        this.history.push(r.txn);
        this.finalReads = new Map(
          r.txn.ops.map((op) => [op.key, op.f === 'r' ? (op.value ?? []) : []]),
        );
        return;
      }
      const why = r instanceof Error ? r.message : `${r.txn.status}: ${r.cause?.message}`;
      this.world.trace?.(`${this.world.now.toFixed(3)} final read T${id} failed: ${why}`);
      await clock.sleep(50);
    }
  }

  get finalReadDone(): boolean {
    return this.finalReads !== undefined;
  }

  /** Snapshot isolation and no committed append lost; throws what broke. */
  verify(): string {
    const v = verifyAppend({
      history: this.history,
      finalReads: this.finalReads ? Object.fromEntries(this.finalReads) : null,
    });
    if (v.failures.length > 0) {
      throw new Error(`transactions: ${v.failures.map((f) => `${f.check}: ${f.text}`).join('\n')}`);
    }
    return v.summary;
  }

  count(status: Txn['status']): number {
    return this.history.filter((t) => t.status === status).length;
  }

  get requests(): number {
    return this.channels.requests;
  }
}
