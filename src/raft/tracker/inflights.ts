// The leader's window of in-flight append messages to one follower, bounded both by
// count and by bytes: flow control so a slow follower cannot absorb unbounded memory.
// Each slot records the last index of one MsgApp and the bytes it carried.
//
// The ring grows on demand up to `capacity`, as etcd-io/raft's Inflights does: every
// peer of every Region keeps one per member, and most never have more than a few
// appends in flight (a store hosting thousands of mostly idle Regions would otherwise
// hold two capacity-sized arrays per member of each).
import { invariant } from '../errors.js';

export class Inflights {
  private start = 0;
  private count = 0;
  private bytes = 0;
  /** The ring's slots: its length is the current size, at most capacity. */
  private indexes: number[] = [];
  private sizes: number[] = [];

  constructor(
    readonly capacity: number,
    /** 0 means no byte limit. */
    readonly maxBytes: number,
  ) {
    invariant(capacity > 0, 'inflights capacity must be positive');
  }

  clone(): Inflights {
    const c = new Inflights(this.capacity, this.maxBytes);
    c.start = this.start;
    c.count = this.count;
    c.bytes = this.bytes;
    c.indexes = [...this.indexes];
    c.sizes = [...this.sizes];
    return c;
  }

  /** Record a sent MsgApp whose last entry is `index`. Indexes must increase. */
  add(index: number, bytes: number): void {
    invariant(!this.full(), 'cannot add into a full inflights window');
    if (this.count === this.indexes.length) this.grow();
    let next = this.start + this.count;
    if (next >= this.indexes.length) next -= this.indexes.length;
    this.indexes[next] = index;
    this.sizes[next] = bytes;
    this.count++;
    this.bytes += bytes;
  }

  /** Double the ring (up to capacity), its slots laid out from 0 in order. */
  private grow(): void {
    const size = Math.min(this.capacity, Math.max(1, this.indexes.length * 2));
    const indexes: number[] = [];
    const sizes: number[] = [];
    for (let i = 0, idx = this.start; i < this.count; i++) {
      indexes.push(this.indexes[idx]!);
      sizes.push(this.sizes[idx]!);
      if (++idx >= this.indexes.length) idx = 0;
    }
    for (let i = this.count; i < size; i++) {
      indexes.push(0);
      sizes.push(0);
    }
    this.indexes = indexes;
    this.sizes = sizes;
    this.start = 0;
  }

  /** Free every slot whose index is <= `to` (the follower acknowledged up to `to`). */
  freeLE(to: number): void {
    if (this.count === 0 || to < this.indexes[this.start]!) return;
    const size = this.indexes.length;
    let idx = this.start;
    let i = 0;
    let freedBytes = 0;
    for (; i < this.count; i++) {
      if (to < this.indexes[idx]!) break;
      freedBytes += this.sizes[idx]!;
      idx++;
      if (idx >= size) idx -= size;
    }
    this.count -= i;
    this.bytes -= freedBytes;
    this.start = this.count === 0 ? 0 : idx;
  }

  full(): boolean {
    return this.count === this.capacity || (this.maxBytes !== 0 && this.bytes >= this.maxBytes);
  }

  get length(): number {
    return this.count;
  }

  get inflightBytes(): number {
    return this.bytes;
  }

  reset(): void {
    this.count = 0;
    this.start = 0;
    this.bytes = 0;
  }
}
