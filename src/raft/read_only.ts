// Pending ReadIndex requests on a leader (thesis §6.4). A read is safe at the commit
// index recorded when it arrived once a quorum has acknowledged a heartbeat that carried
// the request's context: that proves no newer leader existed at that moment.
import { NodeId, Message } from './types.js';

export enum ReadOnlyOption {
  /** Confirm leadership with a quorum heartbeat round per batch of reads. */
  Safe = 'Safe',
  /** Trust the leader lease (needs check-quorum; clock drift bounded by the lease). */
  LeaseBased = 'LeaseBased',
}

interface ReadIndexStatus {
  req: Message;
  index: number;
  acks: Set<NodeId>;
}

export function ctxKey(ctx: Uint8Array | undefined): string {
  if (!ctx) return '';
  let s = '';
  for (let i = 0; i < ctx.length; i++) s += String.fromCharCode(ctx[i]!);
  return s;
}

export class ReadOnly {
  private pending = new Map<string, ReadIndexStatus>();
  private queue: string[] = [];

  constructor(readonly option: ReadOnlyOption) {}

  /** Queue a read request `m` to be served at commit index `index`. */
  add(index: number, m: Message): void {
    const key = ctxKey(m.entries[0]!.data);
    if (this.pending.has(key)) return;
    this.pending.set(key, { req: m, index, acks: new Set() });
    this.queue.push(key);
  }

  /** Record a heartbeat ack carrying ctx; returns the acks so far, if ctx is pending. */
  recvAck(from: NodeId, ctx: Uint8Array | undefined): Set<NodeId> | undefined {
    const rs = this.pending.get(ctxKey(ctx));
    if (!rs) return undefined;
    rs.acks.add(from);
    return rs.acks;
  }

  /**
   * Dequeue every request up to and including the one with ctx: heartbeats are
   * answered in order, so a quorum for a later request confirms the earlier ones.
   */
  advance(ctx: Uint8Array | undefined): { req: Message; index: number }[] {
    const key = ctxKey(ctx);
    const pos = this.queue.indexOf(key);
    if (pos < 0) return [];
    const done = this.queue.splice(0, pos + 1);
    const out = [];
    for (const k of done) {
      const rs = this.pending.get(k)!;
      this.pending.delete(k);
      out.push({ req: rs.req, index: rs.index });
    }
    return out;
  }

  /** The context of the newest pending request, to piggyback on heartbeats. */
  lastPendingRequestCtx(): Uint8Array | undefined {
    if (this.queue.length === 0) return undefined;
    return this.pending.get(this.queue[this.queue.length - 1]!)!.req.entries[0]!.data;
  }

  get pendingCount(): number {
    return this.queue.length;
  }

  reset(): void {
    this.pending = new Map();
    this.queue = [];
  }
}
