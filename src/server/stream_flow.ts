// Flow control for the store's BatchCommands streams. A client multiplexes many requests
// on one stream and the store answers them as they finish; without a bound, a client that
// keeps sending but never reads its responses makes the store buffer every answer (one
// such client grew a store to 1.9 GiB, starved /health and delayed SIGTERM).
//
// Two budgets per stream and per connection (TiKV bounds its gRPC memory per connection
// in the same spirit, and HTTP/2 flow control does the rest):
// - in flight: requests read from the stream and not yet answered;
// - unsent bytes: answers produced and not yet taken by the transport (queued here, or
//   written while the stream's HTTP/2 window was closed).
// While either is over its bound the stream is paused: grpc-js then stops reading it,
// HTTP/2 flow control fills the client's window, and the client's own writes block. A
// request that was already read when a bound was reached is answered ServerIsBusy (the
// client backs off and retries) instead of being run. Writes honour call.write()'s
// backpressure: after it returns false nothing more is written until 'drain'.
//
// Memory per stream is thus at most about unsentBytes + inFlight × the largest answer
// (the engines bound a scan by bytes; a value is at most 8 MiB).

import { trace } from '../common/trace.js';

export interface FlowLimits {
  /** Requests of one stream read and not yet answered. */
  streamInFlight: number;
  /** Answer bytes of one stream not yet taken by the transport. */
  streamUnsentBytes: number;
  /** The same, summed over every stream of one client connection. */
  connInFlight: number;
  connUnsentBytes: number;
  /** A response message carries answers up to about this many bytes (at least one). */
  messageBytes: number;
}

export const DEFAULT_FLOW_LIMITS: FlowLimits = {
  streamInFlight: 1024,
  streamUnsentBytes: 16 << 20,
  connInFlight: 4096,
  connUnsentBytes: 64 << 20,
  messageBytes: 4 << 20,
};

/** What a flow needs of a gRPC server duplex stream (the layer below it). */
export interface FlowCall<M> {
  pause(): void;
  resume(): void;
  /** Node Writable semantics: false asks the writer to wait for 'drain'. */
  write(msg: M, cb: (err?: Error | null) => void): boolean;
  once(event: 'drain', listener: () => void): unknown;
  readonly writable: boolean;
}

/** The flow state of one client connection, shared by its streams. */
export class ConnectionFlow {
  inFlight = 0;
  unsentBytes = 0;
  readonly streams = new Set<StreamFlow<unknown, unknown>>();

  constructor(
    readonly key: string,
    private readonly limits: FlowLimits,
  ) {}

  over(): boolean {
    return (
      this.inFlight >= this.limits.connInFlight || this.unsentBytes >= this.limits.connUnsentBytes
    );
  }

  /** The budget changed: each stream pauses or resumes as it now says. */
  changed(): void {
    for (const s of this.streams) s.check();
  }
}

/** Connections by peer address (host:port of the client's socket, unique per connection). */
export class ConnectionFlows {
  private readonly conns = new Map<string, ConnectionFlow>();

  constructor(readonly limits: FlowLimits = DEFAULT_FLOW_LIMITS) {}

  open<R, M>(
    peer: string,
    call: FlowCall<M>,
    pack: (answers: R[]) => M,
    sizeOf: (answer: R) => number,
  ): StreamFlow<R, M> {
    let conn = this.conns.get(peer);
    if (!conn) {
      conn = new ConnectionFlow(peer, this.limits);
      this.conns.set(peer, conn);
    }
    const flow = new StreamFlow<R, M>(call, conn, this.limits, pack, sizeOf, () => {
      conn.streams.delete(flow as StreamFlow<unknown, unknown>);
      // Requests still running on a closed stream keep their connection object (they
      // release its count when they finish) but no longer gate a new connection's streams.
      if (conn.streams.size === 0) {
        if (this.conns.get(peer) === conn) this.conns.delete(peer);
      } else conn.changed();
    });
    conn.streams.add(flow as StreamFlow<unknown, unknown>);
    return flow;
  }

  /** Connections with open streams or unfinished requests (for tests and status). */
  get size(): number {
    return this.conns.size;
  }
}

/** One BatchCommands stream: admits requests, queues answers, writes them with backpressure. */
export class StreamFlow<R, M> {
  inFlight = 0;
  unsentBytes = 0;
  private queue: { answer: R; bytes: number }[] = [];
  private flushScheduled = false;
  private waitingForDrain = false;
  private paused = false;
  private closed = false;

  constructor(
    private readonly call: FlowCall<M>,
    private readonly conn: ConnectionFlow,
    private readonly limits: FlowLimits,
    private readonly pack: (answers: R[]) => M,
    private readonly sizeOf: (answer: R) => number,
    private readonly onClose: () => void,
  ) {}

  /**
   * Takes one request read from the stream: true if it may run (the caller must later
   * call answer() exactly once), false if a bound refuses it (answer it ServerIsBusy
   * with busy()).
   */
  admit(): boolean {
    if (this.closed || this.overSelf() || this.conn.over()) return false;
    this.inFlight++;
    this.conn.inFlight++;
    // The connection's bound pauses its other streams too.
    this.conn.changed();
    return true;
  }

  /** The answer of an admitted request. */
  answer(a: R): void {
    if (!(this.inFlight > 0 && this.conn.inFlight > 0))
      throw new Error(`answer without an admitted request (in flight ${this.inFlight})`);
    this.inFlight--;
    this.conn.inFlight--;
    this.enqueue(a);
    this.conn.changed();
  }

  /** The answer of a request that was not admitted (small: an error). */
  busy(a: R): void {
    this.enqueue(a);
    this.conn.changed();
  }

  /** Whether the stream is paused by a bound (for tests and metrics). */
  get isPaused(): boolean {
    return this.paused;
  }

  /** The stream ended (client half-close answered, cancelled or failed): release its budget. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.conn.unsentBytes -= this.unsentBytes;
    this.unsentBytes = 0;
    this.queue = [];
    // In-flight requests still finish and call answer(), which releases their count.
    this.onClose();
  }

  /** Pauses or resumes reading as the budgets say. */
  check(): void {
    if (this.closed) return;
    const over = this.overSelf() || this.conn.over();
    if (over && !this.paused) {
      this.paused = true;
      this.call.pause();
    } else if (!over && this.paused) {
      this.paused = false;
      this.call.resume();
    }
  }

  private overSelf(): boolean {
    return (
      this.inFlight >= this.limits.streamInFlight ||
      this.unsentBytes >= this.limits.streamUnsentBytes
    );
  }

  private enqueue(a: R): void {
    if (this.closed) return;
    const bytes = this.sizeOf(a);
    this.queue.push({ answer: a, bytes });
    this.unsentBytes += bytes;
    this.conn.unsentBytes += bytes;
    // Answers finishing in the same turn leave as one message.
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    while (!this.closed && !this.waitingForDrain && this.queue.length > 0) {
      if (!this.call.writable) return this.close();
      let n = 0;
      let bytes = 0;
      while (
        n < this.queue.length &&
        (n === 0 || bytes + this.queue[n]!.bytes <= this.limits.messageBytes)
      ) {
        bytes += this.queue[n]!.bytes;
        n++;
      }
      const batch = this.queue.splice(0, n);
      trace('kv.write');
      const ok = this.call.write(this.pack(batch.map((b) => b.answer)), () => this.sent(bytes));
      if (!ok) {
        this.waitingForDrain = true;
        this.call.once('drain', () => {
          this.waitingForDrain = false;
          this.flush();
        });
      }
    }
  }

  /** The transport took a message (or dropped it with the stream). */
  private sent(bytes: number): void {
    if (this.closed) return;
    this.unsentBytes -= bytes;
    this.conn.unsentBytes -= bytes;
    this.conn.changed();
  }
}

/** Bytes an answer costs in memory and on the wire, roughly: its byte strings and fields. */
export function approxBytes(v: unknown): number {
  if (v === null || v === undefined) return 0;
  if (typeof v === 'string') return v.length + 2;
  if (typeof v !== 'object') return 8;
  if (v instanceof Uint8Array) return v.length + 4;
  let n = 4;
  if (Array.isArray(v)) {
    for (const x of v) n += approxBytes(x);
    return n;
  }
  for (const x of Object.values(v)) n += approxBytes(x);
  return n;
}

/**
 * HTTP/2 streams one client connection may have open at once on a store or PD: this
 * bounds unary calls in flight per connection (each is a stream), as BatchCommands
 * streams are bounded by the limits above.
 */
export const MAX_STREAMS_PER_CONNECTION = 1024;
