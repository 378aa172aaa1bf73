// One connection per store: a gRPC channel and one long-lived BatchCommands stream that
// every caller shares. Requests issued in the same turn of the event loop leave together
// in one BatchCommandsRequest (TiKV's batching idea: a store under load gets fewer,
// larger messages), and responses, which come back in completion order, are matched to
// their callers by request_id. When the stream breaks, every request in flight on it
// fails with a retryable ConnectionError and the next request opens a new stream.
// Plain unary calls remain available as a fallback and for simple tools.
import * as grpc from '@grpc/grpc-js';
import { loadNyxProto, type KvClient } from '../proto/load.js';
import type { BatchCommandsRequest } from '../proto-gen/nyx/kv/BatchCommandsRequest.js';
import type { BatchCommandsResponse__Output } from '../proto-gen/nyx/kv/BatchCommandsResponse.js';
import type { BatchRequest } from '../proto-gen/nyx/kv/BatchRequest.js';
import type { RawBatchGetRequest } from '../proto-gen/nyx/kv/RawBatchGetRequest.js';
import type { RawBatchGetResponse__Output } from '../proto-gen/nyx/kv/RawBatchGetResponse.js';
import type { RawBatchPutRequest } from '../proto-gen/nyx/kv/RawBatchPutRequest.js';
import type { RawBatchPutResponse__Output } from '../proto-gen/nyx/kv/RawBatchPutResponse.js';
import type { RawCompareAndSwapRequest } from '../proto-gen/nyx/kv/RawCompareAndSwapRequest.js';
import type { RawCompareAndSwapResponse__Output } from '../proto-gen/nyx/kv/RawCompareAndSwapResponse.js';
import type { RawDeleteRangeRequest } from '../proto-gen/nyx/kv/RawDeleteRangeRequest.js';
import type { RawDeleteRangeResponse__Output } from '../proto-gen/nyx/kv/RawDeleteRangeResponse.js';
import type { RawDeleteRequest } from '../proto-gen/nyx/kv/RawDeleteRequest.js';
import type { RawDeleteResponse__Output } from '../proto-gen/nyx/kv/RawDeleteResponse.js';
import type { RawGetRequest } from '../proto-gen/nyx/kv/RawGetRequest.js';
import type { RawGetResponse__Output } from '../proto-gen/nyx/kv/RawGetResponse.js';
import type { RawPutRequest } from '../proto-gen/nyx/kv/RawPutRequest.js';
import type { RawPutResponse__Output } from '../proto-gen/nyx/kv/RawPutResponse.js';
import type { RawScanRequest } from '../proto-gen/nyx/kv/RawScanRequest.js';
import type { RawScanResponse__Output } from '../proto-gen/nyx/kv/RawScanResponse.js';
import type { TxnGetRequest } from '../proto-gen/nyx/kv/TxnGetRequest.js';
import type { TxnGetResponse__Output } from '../proto-gen/nyx/kv/TxnGetResponse.js';
import type { TxnBatchGetRequest } from '../proto-gen/nyx/kv/TxnBatchGetRequest.js';
import type { TxnBatchGetResponse__Output } from '../proto-gen/nyx/kv/TxnBatchGetResponse.js';
import type { TxnScanRequest } from '../proto-gen/nyx/kv/TxnScanRequest.js';
import type { TxnScanResponse__Output } from '../proto-gen/nyx/kv/TxnScanResponse.js';
import type { PrewriteRequest } from '../proto-gen/nyx/kv/PrewriteRequest.js';
import type { PrewriteResponse__Output } from '../proto-gen/nyx/kv/PrewriteResponse.js';
import type { CommitRequest } from '../proto-gen/nyx/kv/CommitRequest.js';
import type { CommitResponse__Output } from '../proto-gen/nyx/kv/CommitResponse.js';
import type { BatchRollbackRequest } from '../proto-gen/nyx/kv/BatchRollbackRequest.js';
import type { BatchRollbackResponse__Output } from '../proto-gen/nyx/kv/BatchRollbackResponse.js';
import type { CheckTxnStatusRequest } from '../proto-gen/nyx/kv/CheckTxnStatusRequest.js';
import type { CheckTxnStatusResponse__Output } from '../proto-gen/nyx/kv/CheckTxnStatusResponse.js';
import type { CheckSecondaryLocksRequest } from '../proto-gen/nyx/kv/CheckSecondaryLocksRequest.js';
import type { CheckSecondaryLocksResponse__Output } from '../proto-gen/nyx/kv/CheckSecondaryLocksResponse.js';
import type { ResolveLockRequest } from '../proto-gen/nyx/kv/ResolveLockRequest.js';
import type { ResolveLockResponse__Output } from '../proto-gen/nyx/kv/ResolveLockResponse.js';
import type { TxnHeartBeatRequest } from '../proto-gen/nyx/kv/TxnHeartBeatRequest.js';
import type { TxnHeartBeatResponse__Output } from '../proto-gen/nyx/kv/TxnHeartBeatResponse.js';
import type { ScanLockRequest } from '../proto-gen/nyx/kv/ScanLockRequest.js';
import type { ScanLockResponse__Output } from '../proto-gen/nyx/kv/ScanLockResponse.js';
import type { PessimisticLockRequest } from '../proto-gen/nyx/kv/PessimisticLockRequest.js';
import type { PessimisticLockResponse__Output } from '../proto-gen/nyx/kv/PessimisticLockResponse.js';
import type { PessimisticRollbackRequest } from '../proto-gen/nyx/kv/PessimisticRollbackRequest.js';
import type { PessimisticRollbackResponse__Output } from '../proto-gen/nyx/kv/PessimisticRollbackResponse.js';
import { trace } from '../common/trace.js';
import { ClientClosedError, ConnectionError, RequestTimeoutError, ServerError } from './errors.js';

/** Each command's request and response, keyed by its BatchRequest oneof name. */
export interface KvCommands {
  rawGet: [RawGetRequest, RawGetResponse__Output];
  rawBatchGet: [RawBatchGetRequest, RawBatchGetResponse__Output];
  rawPut: [RawPutRequest, RawPutResponse__Output];
  rawBatchPut: [RawBatchPutRequest, RawBatchPutResponse__Output];
  rawDelete: [RawDeleteRequest, RawDeleteResponse__Output];
  rawDeleteRange: [RawDeleteRangeRequest, RawDeleteRangeResponse__Output];
  rawScan: [RawScanRequest, RawScanResponse__Output];
  rawCompareAndSwap: [RawCompareAndSwapRequest, RawCompareAndSwapResponse__Output];
  // Transactions (txn.proto).
  txnGet: [TxnGetRequest, TxnGetResponse__Output];
  txnBatchGet: [TxnBatchGetRequest, TxnBatchGetResponse__Output];
  txnScan: [TxnScanRequest, TxnScanResponse__Output];
  prewrite: [PrewriteRequest, PrewriteResponse__Output];
  commit: [CommitRequest, CommitResponse__Output];
  batchRollback: [BatchRollbackRequest, BatchRollbackResponse__Output];
  checkTxnStatus: [CheckTxnStatusRequest, CheckTxnStatusResponse__Output];
  checkSecondaryLocks: [CheckSecondaryLocksRequest, CheckSecondaryLocksResponse__Output];
  resolveLock: [ResolveLockRequest, ResolveLockResponse__Output];
  txnHeartBeat: [TxnHeartBeatRequest, TxnHeartBeatResponse__Output];
  scanLock: [ScanLockRequest, ScanLockResponse__Output];
  pessimisticLock: [PessimisticLockRequest, PessimisticLockResponse__Output];
  pessimisticRollback: [PessimisticRollbackRequest, PessimisticRollbackResponse__Output];
}
export type KvCommand = keyof KvCommands;
export type KvRequest<C extends KvCommand> = KvCommands[C][0];
export type KvResponse<C extends KvCommand> = KvCommands[C][1];

/** How requests reach one store: a KvConnection, or the simulation's network. */
export interface KvChannel {
  /** Sends one request on the shared BatchCommands stream. */
  send<C extends KvCommand>(cmd: C, req: KvRequest<C>, timeoutMs: number): Promise<KvResponse<C>>;
  /** Sends one request as a plain unary call. */
  unary<C extends KvCommand>(cmd: C, req: KvRequest<C>, timeoutMs: number): Promise<KvResponse<C>>;
}

/** One channel per store address (KvConnectionPool over gRPC). */
export interface KvChannels {
  get(address: string): KvChannel;
  close(): void;
}

/** The Kv service's unary method of each command. */
export const UNARY_METHOD: Record<KvCommand, string> = {
  rawGet: 'RawGet',
  rawBatchGet: 'RawBatchGet',
  rawPut: 'RawPut',
  rawBatchPut: 'RawBatchPut',
  rawDelete: 'RawDelete',
  rawDeleteRange: 'RawDeleteRange',
  rawScan: 'RawScan',
  rawCompareAndSwap: 'RawCompareAndSwap',
  txnGet: 'TxnGet',
  txnBatchGet: 'TxnBatchGet',
  txnScan: 'TxnScan',
  prewrite: 'Prewrite',
  commit: 'Commit',
  batchRollback: 'BatchRollback',
  checkTxnStatus: 'CheckTxnStatus',
  checkSecondaryLocks: 'CheckSecondaryLocks',
  resolveLock: 'ResolveLock',
  txnHeartBeat: 'TxnHeartBeat',
  scanLock: 'ScanLock',
  pessimisticLock: 'PessimisticLock',
  pessimisticRollback: 'PessimisticRollback',
};

type UnaryMethod = (
  req: unknown,
  options: grpc.CallOptions,
  cb: (err: grpc.ServiceError | null, resp?: unknown) => void,
) => grpc.ClientUnaryCall;

type BatchStream = grpc.ClientDuplexStream<BatchCommandsRequest, BatchCommandsResponse__Output>;

export interface KvConnectionOptions {
  /** At most this many requests per BatchCommandsRequest message. */
  maxBatchSize?: number;
  credentials?: grpc.ChannelCredentials;
  channelOptions?: grpc.ChannelOptions;
}

const DEFAULT_MAX_BATCH_SIZE = 256;

const DEFAULT_CHANNEL_OPTIONS: grpc.ChannelOptions = {
  // Values and batches can be large; the store enforces its own limits.
  'grpc.max_send_message_length': 256 << 20,
  'grpc.max_receive_message_length': 256 << 20,
  // Notice a dead store under the open stream even when no request is waiting.
  'grpc.keepalive_time_ms': 10_000,
  'grpc.keepalive_timeout_ms': 5_000,
  // A restarted store is reached again within a second (grpc's default backoff grows to
  // 120 s, which would keep a client off a store long after it came back).
  'grpc.initial_reconnect_backoff_ms': 100,
  'grpc.max_reconnect_backoff_ms': 1000,
};

interface Pending {
  cmd: KvCommand;
  resolve: (resp: unknown) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
  /** The stream it was written to; unset while it waits in the queue. */
  stream?: BatchStream;
}

/** Counters for tests and metrics. */
export interface KvConnectionStats {
  /** Requests sent on BatchCommands streams. */
  batchedRequests: number;
  /** BatchCommandsRequest messages written. */
  batchMessages: number;
  /** BatchCommands streams opened. */
  streamsOpened: number;
  unaryCalls: number;
}

/** Maps a gRPC failure to the SDK's error classes: transport trouble is retryable. */
export function grpcErrorToNyx(address: string, err: grpc.ServiceError): Error {
  switch (err.code) {
    case grpc.status.DEADLINE_EXCEEDED:
      return new RequestTimeoutError(address, 'request timed out', { cause: err });
    case grpc.status.UNAVAILABLE:
    case grpc.status.CANCELLED:
    case grpc.status.UNKNOWN:
    case grpc.status.INTERNAL:
    case grpc.status.RESOURCE_EXHAUSTED:
    case grpc.status.ABORTED:
      return new ConnectionError(address, err.details || err.message, { cause: err });
    default:
      return new ServerError(`${address}: ${err.details || err.message}`, { cause: err });
  }
}

export class KvConnection implements KvChannel {
  readonly stats: KvConnectionStats = {
    batchedRequests: 0,
    batchMessages: 0,
    streamsOpened: 0,
    unaryCalls: 0,
  };
  private readonly client: KvClient;
  private readonly maxBatchSize: number;
  private stream: BatchStream | undefined;
  private nextRequestId = 1;
  private readonly inflight = new Map<string, Pending>();
  private queue: BatchRequest[] = [];
  private flushScheduled = false;
  private closed = false;

  constructor(
    readonly address: string,
    options: KvConnectionOptions = {},
  ) {
    const { nyx } = loadNyxProto();
    this.client = new nyx.kv.Kv(address, options.credentials ?? grpc.credentials.createInsecure(), {
      ...DEFAULT_CHANNEL_OPTIONS,
      ...options.channelOptions,
    });
    this.maxBatchSize = options.maxBatchSize ?? DEFAULT_MAX_BATCH_SIZE;
  }

  /** Requests waiting for an answer (queued or on the wire). */
  get inflightCount(): number {
    return this.inflight.size;
  }

  /** Sends one request on the shared BatchCommands stream. */
  send<C extends KvCommand>(cmd: C, req: KvRequest<C>, timeoutMs: number): Promise<KvResponse<C>> {
    if (this.closed) return Promise.reject(new ClientClosedError('the connection is closed'));
    // On the wire as a number (a uint64 field: a string would be parsed digit by digit on
    // every request); responses carry it back as a decimal string, the inflight key.
    const seq = this.nextRequestId++;
    trace('client.send');
    const id = String(seq);
    return new Promise<KvResponse<C>>((resolve, reject) => {
      const timer = setTimeout(() => {
        // A late answer finds no entry and is dropped.
        if (this.inflight.delete(id)) {
          reject(new RequestTimeoutError(this.address, `${cmd}: no answer in ${timeoutMs} ms`));
        }
      }, timeoutMs);
      this.inflight.set(id, {
        cmd,
        resolve: resolve as (resp: unknown) => void,
        reject,
        timer,
      });
      this.queue.push({ requestId: seq, [cmd]: req });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        // setImmediate, not a microtask: callers that reach send() after awaiting a few
        // cache lookups in this same turn still make the same message.
        setImmediate(() => this.flush());
      }
    });
  }

  /** Sends one request as a plain unary call, outside the stream. */
  unary<C extends KvCommand>(cmd: C, req: KvRequest<C>, timeoutMs: number): Promise<KvResponse<C>> {
    if (this.closed) return Promise.reject(new ClientClosedError('the connection is closed'));
    this.stats.unaryCalls++;
    const method = (this.client as unknown as Record<string, UnaryMethod>)[UNARY_METHOD[cmd]]!;
    return new Promise<KvResponse<C>>((resolve, reject) => {
      method.call(this.client, req, { deadline: Date.now() + timeoutMs }, (err, resp) => {
        if (err) reject(grpcErrorToNyx(this.address, err));
        else resolve(resp as KvResponse<C>);
      });
    });
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.closed) return;
    // Requests that timed out while queued are not sent.
    const batch = this.queue.filter((r) => this.inflight.has(String(r.requestId)));
    this.queue = [];
    if (batch.length === 0) return;
    const stream = this.openStream();
    for (let i = 0; i < batch.length; i += this.maxBatchSize) {
      const requests = batch.slice(i, i + this.maxBatchSize);
      for (const r of requests) this.inflight.get(String(r.requestId))!.stream = stream;
      this.stats.batchMessages++;
      this.stats.batchedRequests += requests.length;
      trace('client.write');
      stream.write({ requests });
    }
  }

  private openStream(): BatchStream {
    if (this.stream) return this.stream;
    const stream = this.client.BatchCommands();
    this.stats.streamsOpened++;
    stream.on('data', (msg: BatchCommandsResponse__Output) => this.onResponses(msg));
    stream.on('error', (err: grpc.ServiceError) =>
      this.onStreamDown(stream, grpcErrorToNyx(this.address, err)),
    );
    stream.on('end', () =>
      this.onStreamDown(stream, new ConnectionError(this.address, 'the store ended the stream')),
    );
    this.stream = stream;
    return stream;
  }

  private onResponses(msg: BatchCommandsResponse__Output): void {
    trace('client.recv');
    for (const r of msg.responses) {
      const p = this.inflight.get(r.requestId);
      if (!p) continue;
      this.inflight.delete(r.requestId);
      clearTimeout(p.timer);
      const body = r.cmd === p.cmd ? (r as unknown as Record<string, unknown>)[p.cmd] : undefined;
      if (body) p.resolve(body);
      else {
        const why = r.error || `answered ${r.cmd ?? 'nothing'} to ${p.cmd}`;
        p.reject(new ServerError(`${this.address}: ${why}`));
      }
    }
  }

  /**
   * Fails the requests written to a broken stream. Transport trouble arrives as a
   * retryable ConnectionError; a status that no retry can fix (UNIMPLEMENTED, ...)
   * arrives as a ServerError.
   */
  private onStreamDown(stream: BatchStream, err: Error): void {
    if (this.stream === stream) this.stream = undefined;
    for (const [id, p] of this.inflight) {
      if (p.stream !== stream) continue;
      this.inflight.delete(id);
      clearTimeout(p.timer);
      p.reject(err);
    }
    stream.removeAllListeners('data');
    // Keep an error listener: a late 'error' must not become an uncaught exception.
    stream.on('error', () => {});
  }

  /** Fails everything pending and closes the channel. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const err = new ClientClosedError('the connection was closed');
    for (const p of this.inflight.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.inflight.clear();
    this.queue = [];
    const s = this.stream;
    this.stream = undefined;
    if (s) {
      s.on('error', () => {});
      s.cancel();
    }
    this.client.close();
  }
}

/** One KvConnection per store address, created on first use. */
export class KvConnectionPool implements KvChannels {
  private readonly conns = new Map<string, KvConnection>();
  private closed = false;

  constructor(private readonly options: KvConnectionOptions = {}) {}

  get(address: string): KvConnection {
    if (this.closed) throw new ClientClosedError('the client is closed');
    let c = this.conns.get(address);
    if (!c) {
      c = new KvConnection(address, this.options);
      this.conns.set(address, c);
    }
    return c;
  }

  /** Every connection made so far (for stats). */
  all(): KvConnection[] {
    return [...this.conns.values()];
  }

  close(): void {
    this.closed = true;
    for (const c of this.conns.values()) c.close();
    this.conns.clear();
  }
}
