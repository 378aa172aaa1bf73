// The store's pipelined log writes (etcd-io/raft's async storage writes; TiKV's
// async-io): a turn commits its Readies' entries and hard states to raft.db without an
// fsync and goes on, and a sync of the WAL on libuv's threadpool makes them durable
// later (raft_log_engine.ts). Until then the Readies wait here: their persistedMessages
// (append acks, votes) and their own acks to Raft (advanceAppend) promise durable state.
//
// Every Ready of a turn waits behind the last write committed before it, also a Ready
// that wrote nothing: its ack may promise entries an earlier, unsynced write carries.
// One sync covers every write committed before it started, so a sync that returns
// releases, in order, every Ready whose write it covers. (The store runs no turn while
// a sync runs, raft_store.ts, so today one turn's Readies wait here at a time.)
import { invariant } from '../raft/index.js';

export class LogSyncQueue<T> {
  /** Log writes committed so far. */
  private written = 0;
  /** The highest write known durable. */
  private synced = 0;
  /** The write a running sync covers (0: none running). One at a time: writes
   * committed while it runs wait for the next one, which covers them all. */
  private syncing = 0;
  private readonly waiting: { seq: number; items: T[] }[] = [];

  /** A write was committed without its fsync. */
  committed(): void {
    this.written++;
  }

  /** Everything committed so far is durable already (a write that fsynced itself). */
  allDurable(): T[] {
    return this.durableTo(this.written);
  }

  /** Whether a Ready of this turn may count as durable now: nothing is waiting for a sync. */
  get idle(): boolean {
    return this.synced === this.written && this.waiting.length === 0;
  }

  /** Hold these until the writes committed so far are durable. */
  hold(items: T[]): void {
    if (items.length === 0) return;
    const last = this.waiting[this.waiting.length - 1];
    if (last && last.seq === this.written) last.items.push(...items);
    else this.waiting.push({ seq: this.written, items });
  }

  /**
   * Start a sync if one is needed and none runs: returns the write it must cover, or
   * undefined. Call synced(seq) when it has finished.
   */
  startSync(): number | undefined {
    if (this.syncing !== 0 || this.synced >= this.written) return undefined;
    this.syncing = this.written;
    return this.syncing;
  }

  /** The sync started for `seq` finished: what it made durable, oldest first. */
  finishSync(seq: number): T[] {
    invariant(seq === this.syncing, () => `sync of write ${seq} finished, ${this.syncing} ran`);
    this.syncing = 0;
    return this.durableTo(seq);
  }

  /** Whether a sync is running. */
  get syncRunning(): boolean {
    return this.syncing !== 0;
  }

  private durableTo(seq: number): T[] {
    this.synced = Math.max(this.synced, seq);
    const out: T[] = [];
    while (this.waiting.length > 0 && this.waiting[0]!.seq <= this.synced)
      out.push(...this.waiting.shift()!.items);
    return out;
  }
}
