// Timestamps from PD over one long-lived Tso stream, with concurrent callers batched:
// every caller that asks within the same event-loop turn joins one {count: n} request,
// and the n timestamps are derived from the one PD returns, which is the LAST of a batch
// sharing one physical time (see TsoAllocator.getTimestamp): caller i of n gets
// last - (n - 1 - i). PD answers a stream in order, so requests are pipelined and each
// answer belongs to the oldest request in flight.
//
// Failure: if the stream breaks or an answer is overdue, every waiter still in flight is
// put back at the head of the queue (in order) and retried on a new stream after a
// backoff — asking PD again is safe, unused timestamps are simply skipped — until its
// overall deadline passes, when it fails with PdUnavailableError. A typed refusal
// (header.error) fails the batch at once with a PdError.
import type * as grpc from '@grpc/grpc-js';
import { MAX_LOGICAL } from '../pd/timestamp.js';
import { tsFromProto } from '../proto/convert_pd.js';
import type { TsoRequest } from '../proto-gen/nyx/pd/TsoRequest.js';
import type { TsoResponse__Output } from '../proto-gen/nyx/pd/TsoResponse.js';
import { Backoff } from './backoff.js';
import { describeGrpcFailure, PdClientClosedError, PdUnavailableError } from './pd_errors.js';
import type { PdStreamContext } from './pd_stream_context.js';

/** Callers per request; well below the logical space of one millisecond. */
const MAX_BATCH = 8192;

interface Waiter {
  resolve(ts: bigint): void;
  reject(e: Error): void;
  deadline: number;
}

interface Batch {
  waiters: Waiter[];
  sentAt: number;
}

type TsoStream = grpc.ClientDuplexStream<TsoRequest, TsoResponse__Output>;

const NO_ANSWER_YET = 'no answer yet';
const TIMED_OUT = 'timed out';
export class TsoBatcher {
  private pending: Waiter[] = [];
  private inflight: Batch[] = [];
  private stream: TsoStream | undefined;
  private streamAddress = '';
  private flushScheduled = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private readonly backoff: Backoff;
  /** Why the stream failed last; reset by an answer. */
  private lastFailure = NO_ANSWER_YET;
  private closed = false;

  constructor(private readonly ctx: PdStreamContext) {
    if (MAX_BATCH >= MAX_LOGICAL) throw new Error('TSO batch exceeds the logical space');
    this.backoff = new Backoff({ baseMs: ctx.backoffBaseMs, maxMs: ctx.backoffMaxMs });
  }

  getTimestamp(): Promise<bigint> {
    if (this.closed) return Promise.reject(new PdClientClosedError());
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject, deadline: Date.now() + this.ctx.timeoutMs });
      this.scheduleFlush();
    });
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.watchdog);
    this.dropStream();
    const err = new PdClientClosedError();
    for (const w of [...this.inflight.flatMap((b) => b.waiters), ...this.pending]) w.reject(err);
    this.inflight = [];
    this.pending = [];
  }

  /** Once per event-loop turn, so callers of the same turn share a request. */
  private scheduleFlush(): void {
    if (this.flushScheduled || this.retryTimer) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    if (this.closed) return;
    this.expire();
    if (this.pending.length === 0) return;
    const stream = this.stream ?? this.open();
    if (!stream) return;
    while (this.pending.length > 0) {
      const waiters = this.pending.splice(0, MAX_BATCH);
      this.inflight.push({ waiters, sentAt: Date.now() });
      stream.write({ header: this.ctx.header(), count: waiters.length });
    }
    this.armWatchdog();
  }

  private open(): TsoStream | undefined {
    let address: string;
    let stream: TsoStream;
    try {
      const cur = this.ctx.conn.current();
      address = cur.address;
      stream = cur.client.Tso();
    } catch (e) {
      this.fail(e instanceof Error ? e.message : String(e));
      return undefined;
    }
    this.stream = stream;
    this.streamAddress = address;
    stream.on('data', (res: TsoResponse__Output) => {
      if (this.stream === stream) this.onResponse(res);
    });
    stream.on('error', (e: Error) => {
      if (this.stream !== stream) return;
      this.ctx.conn.rotate(address);
      this.fail(describeGrpcFailure(e));
    });
    stream.on('end', () => {
      if (this.stream === stream) this.fail('PD closed the stream');
    });
    return stream;
  }

  private onResponse(res: TsoResponse__Output): void {
    const batch = this.inflight.shift();
    if (!batch) return; // an answer to a request we already gave up on
    this.armWatchdog();
    try {
      this.ctx.checkHeader(res.header);
      if (!res.timestamp || res.count !== batch.waiters.length) {
        throw new Error(`TSO answered ${res.count} timestamps for ${batch.waiters.length}`);
      }
      this.backoff.reset();
      this.lastFailure = NO_ANSWER_YET;
      const last = tsFromProto(res.timestamp);
      const n = batch.waiters.length;
      batch.waiters.forEach((w, i) => w.resolve(last - BigInt(n - 1 - i)));
    } catch (e) {
      // A PdError (refusal, cluster mismatch) or a malformed answer: not worth a retry.
      const err = e instanceof Error ? e : new Error(String(e));
      for (const w of batch.waiters) w.reject(err);
    }
  }

  /** An answer overdue by more than the per-request timeout means the stream is stuck. */
  private armWatchdog(): void {
    clearTimeout(this.watchdog);
    this.watchdog = undefined;
    const oldest = this.inflight[0];
    if (!oldest) return;
    const wait = Math.max(0, oldest.sentAt + this.ctx.rpcTimeoutMs - Date.now());
    this.watchdog = setTimeout(() => {
      this.ctx.conn.rotate(this.streamAddress);
      this.fail(TIMED_OUT);
    }, wait);
  }

  /** The stream is gone: requeue what was in flight, retry after a backoff. */
  private fail(reason: string): void {
    // A stream that got no answer after refused connections was refused once more, in all
    // likelihood, but ran out of time first: the refusal is the news ("connection refused").
    if (reason !== TIMED_OUT || this.lastFailure === NO_ANSWER_YET) this.lastFailure = reason;
    this.dropStream();
    clearTimeout(this.watchdog);
    this.watchdog = undefined;
    this.pending = [...this.inflight.flatMap((b) => b.waiters), ...this.pending];
    this.inflight = [];
    this.expire();
    if (this.pending.length === 0 || this.retryTimer) return;
    const soonest = Math.min(...this.pending.map((w) => w.deadline));
    const wait = Math.max(0, Math.min(this.backoff.next(), soonest - Date.now()));
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.flush();
    }, wait);
  }

  /** Fails the waiters whose overall deadline has passed. */
  private expire(): void {
    const now = Date.now();
    if (!this.pending.some((w) => w.deadline <= now)) return;
    const err = new PdUnavailableError(this.ctx.conn.description, this.lastFailure);
    this.pending = this.pending.filter((w) => {
      if (w.deadline > now) return true;
      w.reject(err);
      return false;
    });
  }

  private dropStream(): void {
    const s = this.stream;
    this.stream = undefined;
    if (s) {
      s.removeAllListeners('data');
      // A late 'error' from the cancel must still have a listener, or it would throw.
      s.on('error', () => {});
      s.cancel();
    }
  }
}
