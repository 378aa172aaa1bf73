// gRPC binding of the Kv service on a store: converts wire requests to RawKv / TxnKv calls
// (the transactional ones in txn_commands.ts) and results or typed errors back. Every rpc
// exists both as a unary call and as a
// command inside the BatchCommands stream, which multiplexes many in-flight requests of a
// client on one stream and answers them batched per event-loop turn (as TiKV does).
import { trace } from '../common/trace.js';
import * as grpc from '@grpc/grpc-js';
import type { BatchCommandsRequest__Output } from '../proto-gen/nyx/kv/BatchCommandsRequest.js';
import type { BatchCommandsResponse } from '../proto-gen/nyx/kv/BatchCommandsResponse.js';
import type { BatchRequest__Output } from '../proto-gen/nyx/kv/BatchRequest.js';
import type { BatchResponse } from '../proto-gen/nyx/kv/BatchResponse.js';
import type { Context__Output } from '../proto-gen/nyx/kv/Context.js';
import type { KvHandlers } from '../proto/load.js';
import { regionErrorToProto } from '../proto/convert_errors.js';
import { epochFromProto } from '../proto/convert_meta.js';
import { uint64ToNumber } from '../proto/uint64.js';
import { RegionError } from '../region/errors.js';
import { RawKv, RequestContext } from '../store/raw_kv.js';
import { TxnKv } from '../store/txn_kv.js';
import { ConnectionFlows, DEFAULT_FLOW_LIMITS, approxBytes } from './stream_flow.js';
import { txnCommands } from './txn_commands.js';

type Cmd = NonNullable<BatchRequest__Output['cmd']>;
type Outcome = { regionError?: ReturnType<typeof regionErrorToProto>; error?: string };

export interface KvServiceObserver {
  observe(method: string, code: string, seconds: number): void;
}

function context(c: Context__Output | null): RequestContext {
  if (!c) return { regionId: 0 };
  const ctx: RequestContext = {
    regionId: uint64ToNumber(c.regionId, 'region id'),
    ...(c.regionEpoch ? { epoch: epochFromProto(c.regionEpoch) } : {}),
    ...(c.peer ? { storeId: uint64ToNumber(c.peer.storeId, 'store id') } : {}),
  };
  if (c.sessionId.length > 0) {
    ctx.session = {
      id: Buffer.from(c.sessionId),
      seq: uint64ToNumber(c.seq, 'seq'),
      lowestPending: uint64ToNumber(c.lowestPendingSeq, 'lowest pending seq'),
    };
  }
  return ctx;
}

/** A failure as the response's region_error (retryable) or error (final). */
function failure(e: unknown): Outcome {
  if (e instanceof RegionError) return { regionError: regionErrorToProto(e) };
  return { error: (e as Error).message ?? String(e) };
}

type RawCmd = Extract<Cmd, `raw${string}`>;

/** The Raw* commands: request → response, never throwing. */
function rawCommands(kv: RawKv): {
  [C in RawCmd]: (req: NonNullable<BatchRequest__Output[C]>) => Promise<object>;
} {
  const run = async <T extends object>(f: () => Promise<T>): Promise<T | Outcome> => {
    try {
      return await f();
    } catch (e) {
      return failure(e);
    }
  };
  return {
    rawGet: (r) =>
      run(async () => {
        const v = await kv.get(context(r.context), r.key);
        return v === undefined ? { notFound: true } : { value: v };
      }),
    rawBatchGet: (r) => run(async () => ({ pairs: await kv.batchGet(context(r.context), r.keys) })),
    rawPut: (r) => run(async () => (await kv.put(context(r.context), r.key, r.value), {})),
    rawBatchPut: (r) =>
      run(
        async () => (
          await kv.batchPut(
            context(r.context),
            r.pairs.map((p) => ({ key: p.key, value: p.value })),
          ),
          {}
        ),
      ),
    rawDelete: (r) => run(async () => (await kv.delete(context(r.context), r.key), {})),
    rawDeleteRange: (r) =>
      run(async () => (await kv.deleteRange(context(r.context), r.startKey, r.endKey), {})),
    rawScan: (r) =>
      run(async () => {
        const res = await kv.scan(context(r.context), r.startKey, r.endKey, {
          limit: r.limit,
          reverse: r.reverse,
          keyOnly: r.keyOnly,
        });
        return {
          kvs: res.pairs.map((p) => ({ key: p.key, value: p.value ?? Buffer.alloc(0) })),
          more: res.more,
        };
      }),
    rawCompareAndSwap: (r) =>
      run(async () => {
        const res = await kv.compareAndSwap(
          context(r.context),
          r.key,
          r.previousNotExist ? null : r.previousValue,
          r.value,
        );
        return {
          succeed: res.succeeded,
          previousNotExist: res.previous === null,
          previousValue: res.previous ?? Buffer.alloc(0),
        };
      }),
  };
}

/** A KeyError's kind ("key_error:locked", ...), or plain "error" for an untyped one. */
function keyErrorCode(e: object): string {
  const kind = Object.keys(e).find((k) => k !== 'message');
  return kind ? `key_error:${kind}` : 'error';
}

function outcomeCode(res: object): string {
  const o = res as Outcome & { errors?: object[] };
  if (o.regionError)
    return `region_error:${Object.keys(o.regionError).find((k) => k !== 'message') ?? 'unknown'}`;
  if (o.error) return typeof o.error === 'object' ? keyErrorCode(o.error) : 'error';
  if (o.errors && o.errors.length > 0) return keyErrorCode(o.errors[0]!);
  return 'ok';
}

/** The answer to a request read while its stream or connection is over a flow bound. */
const STREAM_BUSY = failure(
  new RegionError({
    kind: 'ServerIsBusy',
    reason: 'too many requests or unread responses on this connection',
    backoffMs: 50,
  }),
);

/** Every command of the Kv service: decoded wire request → wire response, never throwing. */
export type KvCommandHandlers = {
  [C in Cmd]: (req: NonNullable<BatchRequest__Output[C]>) => Promise<object>;
};

/**
 * The commands both the unary rpcs and the BatchCommands stream run; the store simulation
 * runs them too, on requests and answers encoded and decoded as on the wire.
 */
export function kvCommands(kv: RawKv, txn: TxnKv): KvCommandHandlers {
  return { ...rawCommands(kv), ...txnCommands(txn, context) };
}

export function kvHandlers(
  kv: RawKv,
  txn: TxnKv,
  observer?: KvServiceObserver,
  flows: ConnectionFlows = new ConnectionFlows(DEFAULT_FLOW_LIMITS),
): KvHandlers {
  const cmds = kvCommands(kv, txn);
  const unary =
    <C extends Cmd>(
      cmd: C,
      method: string,
    ): grpc.handleUnaryCall<NonNullable<BatchRequest__Output[C]>, object> =>
    (call, callback) => {
      const t0 = performance.now();
      void cmds[cmd](call.request).then((res) => {
        observer?.observe(method, outcomeCode(res), (performance.now() - t0) / 1000);
        callback(null, res);
      });
    };
  return {
    RawGet: unary('rawGet', 'RawGet'),
    RawBatchGet: unary('rawBatchGet', 'RawBatchGet'),
    RawPut: unary('rawPut', 'RawPut'),
    RawBatchPut: unary('rawBatchPut', 'RawBatchPut'),
    RawDelete: unary('rawDelete', 'RawDelete'),
    RawDeleteRange: unary('rawDeleteRange', 'RawDeleteRange'),
    RawScan: unary('rawScan', 'RawScan'),
    RawCompareAndSwap: unary('rawCompareAndSwap', 'RawCompareAndSwap'),
    TxnGet: unary('txnGet', 'TxnGet'),
    TxnBatchGet: unary('txnBatchGet', 'TxnBatchGet'),
    TxnScan: unary('txnScan', 'TxnScan'),
    Prewrite: unary('prewrite', 'Prewrite'),
    Commit: unary('commit', 'Commit'),
    BatchRollback: unary('batchRollback', 'BatchRollback'),
    CheckTxnStatus: unary('checkTxnStatus', 'CheckTxnStatus'),
    CheckSecondaryLocks: unary('checkSecondaryLocks', 'CheckSecondaryLocks'),
    ResolveLock: unary('resolveLock', 'ResolveLock'),
    TxnHeartBeat: unary('txnHeartBeat', 'TxnHeartBeat'),
    ScanLock: unary('scanLock', 'ScanLock'),
    PessimisticLock: unary('pessimisticLock', 'PessimisticLock'),
    PessimisticRollback: unary('pessimisticRollback', 'PessimisticRollback'),
    BatchCommands: (call) => {
      // Bounded per stream and per connection: see stream_flow.ts.
      const flow = flows.open<BatchResponse, BatchCommandsResponse>(
        call.getPeer(),
        call,
        (responses) => ({ responses }),
        approxBytes,
      );
      call.on('data', (batch: BatchCommandsRequest__Output) => {
        trace('kv.recv');
        for (const req of batch.requests) {
          const cmd = req.cmd;
          if (!cmd || !(cmd in cmds)) {
            flow.busy({ requestId: req.requestId, error: 'unknown or missing command' });
            continue;
          }
          if (!flow.admit()) {
            observer?.observe(`Batch.${cmd}`, 'region_error:serverIsBusy', 0);
            flow.busy({ requestId: req.requestId, [cmd]: STREAM_BUSY });
            continue;
          }
          const t0 = performance.now();
          const handler = cmds[cmd] as (r: unknown) => Promise<object>;
          void handler(req[cmd]).then((res) => {
            observer?.observe(`Batch.${cmd}`, outcomeCode(res), (performance.now() - t0) / 1000);
            trace('kv.answer');
            flow.answer({ requestId: req.requestId, [cmd]: res });
          });
        }
      });
      call.on('end', () => call.end());
      call.on('close', () => flow.close());
      call.on('cancelled', () => flow.close());
      call.on('error', () => flow.close());
    },
  } as KvHandlers;
}
