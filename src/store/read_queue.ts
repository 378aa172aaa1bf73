// Linearizable reads waiting on a Region leader (thesis §6.4). Reads that arrive in one
// loop turn share one ReadIndex request; once its read point is known they wait until the
// Region has applied up to it, then run against the Region engine.

export interface PendingRead {
  run: () => void;
  fail: (err: Error) => void;
  arrivedAt: number;
}

interface ReadBatch {
  reads: PendingRead[];
  /** Known once the ReadIndex answered (or immediately for a lease read). */
  readIndex: number | undefined;
  sentAt: number;
  leaseGeneration: number;
}

export class ReadQueue {
  /** Reads not yet sent as a ReadIndex request. */
  private unsent: PendingRead[] = [];
  private inflight = new Map<string, ReadBatch>();
  /** Batches whose read point is known, waiting for apply. In read-index order. */
  private waiting: ReadBatch[] = [];
  private nextCtx = 1;

  get size(): number {
    let n = this.unsent.length;
    for (const b of this.inflight.values()) n += b.reads.length;
    for (const b of this.waiting) n += b.reads.length;
    return n;
  }

  hasUnsent(): boolean {
    return this.unsent.length > 0;
  }

  add(read: PendingRead): void {
    this.unsent.push(read);
  }

  /** A lease read: its read point is the commit index now. */
  addAtIndex(read: PendingRead, readIndex: number): void {
    this.pushWaiting({ reads: [read], readIndex, sentAt: 0, leaseGeneration: -1 });
  }

  /** Take the unsent reads as one batch; returns the ReadIndex context to send. */
  startBatch(sentAt: number, leaseGeneration: number): Uint8Array {
    const ctx = Buffer.alloc(8);
    ctx.writeDoubleBE(this.nextCtx++);
    this.inflight.set(ctx.toString('latin1'), {
      reads: this.unsent,
      readIndex: undefined,
      sentAt,
      leaseGeneration,
    });
    this.unsent = [];
    return ctx;
  }

  /** Fail a batch whose ReadIndex request was refused (no leader). */
  failBatch(ctx: Uint8Array, err: Error): void {
    const b = this.inflight.get(Buffer.from(ctx).toString('latin1'));
    if (!b) return;
    this.inflight.delete(Buffer.from(ctx).toString('latin1'));
    for (const r of b.reads) r.fail(err);
  }

  /** The ReadIndex for ctx answered with index; returns the batch's send time and generation. */
  resolve(ctx: Uint8Array, index: number): { sentAt: number; leaseGeneration: number } | undefined {
    const key = Buffer.from(ctx).toString('latin1');
    const b = this.inflight.get(key);
    if (!b) return undefined;
    this.inflight.delete(key);
    b.readIndex = index;
    this.pushWaiting(b);
    return { sentAt: b.sentAt, leaseGeneration: b.leaseGeneration };
  }

  private pushWaiting(b: ReadBatch): void {
    // Keep waiting batches ordered by read index so serving stops at the first unready one.
    let i = this.waiting.length;
    while (i > 0 && this.waiting[i - 1]!.readIndex! > b.readIndex!) i--;
    this.waiting.splice(i, 0, b);
  }

  /** Run every read whose read point has been applied. */
  serve(appliedIndex: number): void {
    let n = 0;
    while (n < this.waiting.length && this.waiting[n]!.readIndex! <= appliedIndex) n++;
    if (n === 0) return;
    const ready = this.waiting.splice(0, n);
    for (const b of ready) for (const r of b.reads) r.run();
  }

  /** Fail reads that arrived before `deadline`. */
  expire(deadline: number, err: () => Error): void {
    const keep = (reads: PendingRead[]) =>
      reads.filter((r) => {
        if (r.arrivedAt >= deadline) return true;
        r.fail(err());
        return false;
      });
    this.unsent = keep(this.unsent);
    for (const [k, b] of this.inflight) {
      b.reads = keep(b.reads);
      if (b.reads.length === 0) this.inflight.delete(k);
    }
    for (const b of this.waiting) b.reads = keep(b.reads);
    this.waiting = this.waiting.filter((b) => b.reads.length > 0);
  }

  failAll(err: () => Error): void {
    for (const r of this.unsent) r.fail(err());
    for (const b of this.inflight.values()) for (const r of b.reads) r.fail(err());
    for (const b of this.waiting) for (const r of b.reads) r.fail(err());
    this.unsent = [];
    this.inflight.clear();
    this.waiting = [];
  }
}
