// The transactional commands of the Kv service (txn.proto): wire request → TxnKv call →
// wire response, never throwing. A region error goes into region_error (the client
// fixes its cache and retries); what the transaction ran into goes into a typed KeyError;
// anything else (an invalid request) into a KeyError with only a message.
import type { BatchRequest__Output } from '../proto-gen/nyx/kv/BatchRequest.js';
import type { Context__Output } from '../proto-gen/nyx/kv/Context.js';
import type { KeyError as KeyErrorProto } from '../proto-gen/nyx/kv/KeyError.js';
import type { LockInfo as LockInfoProto } from '../proto-gen/nyx/kv/LockInfo.js';
import type { LockType } from '../proto-gen/nyx/kv/LockType.js';
import type { MutationOp__Output } from '../proto-gen/nyx/kv/MutationOp.js';
import type { Mutation__Output } from '../proto-gen/nyx/kv/Mutation.js';
import { regionErrorToProto } from '../proto/convert_errors.js';
import { int64ToNumber, toUint64, uint64ToNumber, wireIntToBigInt } from '../proto/uint64.js';
import { RegionError } from '../region/errors.js';
import { RequestContext } from '../store/raw_kv.js';
import { TxnKv } from '../store/txn_kv.js';
import { Mutation, MutationOp } from '../txn/actions/prewrite.js';
import { KeyError, LockInfo } from '../txn/errors.js';
import { LockKind } from '../txn/mvcc/lock_record.js';
import { ReadPair } from '../txn/snapshot_read.js';

type Cmd = NonNullable<BatchRequest__Output['cmd']>;
export type TxnCmd = Exclude<Cmd, `raw${string}`>;

const LOCK_TYPES: Record<LockKind, LockType> = {
  [LockKind.Put]: 'LockPut',
  [LockKind.Delete]: 'LockDelete',
  [LockKind.Lock]: 'LockLock',
  [LockKind.Pessimistic]: 'LockPessimistic',
};

const MUTATION_OPS: Record<MutationOp__Output, MutationOp> = {
  Put: 'put',
  Delete: 'delete',
  Lock: 'lock',
  Insert: 'insert',
  CheckNotExists: 'checkNotExists',
};

export function lockInfoToProto(l: LockInfo): LockInfoProto {
  return {
    primaryLock: l.primary,
    lockVersion: toUint64(l.startTs),
    key: l.key,
    lockTtl: toUint64(l.ttl),
    txnSize: toUint64(l.txnSize),
    lockType: LOCK_TYPES[l.kind],
    lockForUpdateTs: toUint64(l.forUpdateTs),
    useAsyncCommit: l.useAsyncCommit,
    minCommitTs: toUint64(l.minCommitTs),
    secondaries: l.secondaries,
  };
}

export function keyErrorToProto(e: KeyError): KeyErrorProto {
  const d = e.detail;
  const message = e.message;
  switch (d.kind) {
    case 'locked':
      return { message, locked: lockInfoToProto(d.lock) };
    case 'conflict':
      return {
        message,
        conflict: {
          startTs: toUint64(d.startTs),
          conflictStartTs: toUint64(d.conflictStartTs),
          conflictCommitTs: toUint64(d.conflictCommitTs),
          key: d.key,
          primary: d.primary,
        },
      };
    case 'alreadyExists':
      return { message, alreadyExists: { key: d.key } };
    case 'txnNotFound':
      return { message, txnNotFound: { startTs: toUint64(d.startTs), primaryKey: d.primaryKey } };
    case 'commitTsExpired':
      return {
        message,
        commitTsExpired: {
          startTs: toUint64(d.startTs),
          attemptedCommitTs: toUint64(d.attemptedCommitTs),
          key: d.key,
          minCommitTs: toUint64(d.minCommitTs),
        },
      };
    case 'deadlock':
      return {
        message,
        deadlock: {
          lockTs: toUint64(d.lockTs),
          lockKey: d.lockKey,
          deadlockKeyHash: toUint64(d.deadlockKeyHash),
          waitChain: d.waitChain.map((w) => ({
            txn: toUint64(w.txn),
            waitForTxn: toUint64(w.waitForTxn),
            key: w.key,
          })),
        },
      };
    case 'tsBelowSafePoint':
      return {
        message,
        tsBelowSafePoint: { ts: toUint64(d.ts), safePoint: toUint64(d.safePoint) },
      };
    case 'pessimisticLockNotFound':
      return { message, pessimisticLockNotFound: d.reason };
    case 'abort':
      return { message, abort: d.reason };
  }
}

type Failure = { regionError?: ReturnType<typeof regionErrorToProto>; error?: KeyErrorProto };

/** A thrown error as region_error or error (a KeyError; a bare message if untyped). */
function failure(e: unknown): Failure {
  if (e instanceof RegionError) return { regionError: regionErrorToProto(e) };
  if (e instanceof KeyError) return { error: keyErrorToProto(e) };
  return { error: { message: (e as Error).message ?? String(e) } };
}

/** For responses with `repeated KeyError errors`. */
function failures(e: unknown): {
  regionError?: ReturnType<typeof regionErrorToProto>;
  errors?: KeyErrorProto[];
} {
  const f = failure(e);
  return f.regionError ? { regionError: f.regionError } : { errors: [f.error!] };
}

function ts(s: string): bigint {
  return wireIntToBigInt(s);
}

function mutation(m: Mutation__Output): Mutation {
  return { op: MUTATION_OPS[m.op], key: m.key, value: m.value };
}

function pairToProto(p: ReadPair, keyOnly = false) {
  return 'error' in p
    ? { key: p.key, error: keyErrorToProto(p.error) }
    : { key: p.key, value: keyOnly ? Buffer.alloc(0) : p.value };
}

const EMPTY = Buffer.alloc(0);

/** The transactional commands, given how to read a wire Context. */
export function txnCommands(
  kv: TxnKv,
  context: (c: Context__Output | null) => RequestContext,
): { [C in TxnCmd]: (req: NonNullable<BatchRequest__Output[C]>) => Promise<object> } {
  const run = async (f: () => Promise<object>, fail = failure): Promise<object> => {
    try {
      return await f();
    } catch (e) {
      return fail(e);
    }
  };
  const resolved = (r: { resolvedLocks: string[] }) => ({ resolvedLocks: r.resolvedLocks.map(ts) });
  return {
    txnGet: (r) =>
      run(async () => {
        const v = await kv.get(context(r.context), r.key, ts(r.version), resolved(r));
        return v === undefined ? { notFound: true } : { value: v };
      }),
    txnBatchGet: (r) =>
      run(async () => ({
        pairs: (await kv.batchGet(context(r.context), r.keys, ts(r.version), resolved(r))).map(
          (p) => pairToProto(p),
        ),
      })),
    txnScan: (r) =>
      run(async () => ({
        pairs: (
          await kv.scan(
            context(r.context),
            {
              start: r.startKey,
              end: r.endKey,
              limit: r.limit,
              reverse: r.reverse,
              keyOnly: r.keyOnly,
            },
            ts(r.version),
            resolved(r),
          )
        ).map((p) => pairToProto(p, r.keyOnly)),
      })),
    prewrite: (r) =>
      run(async () => {
        const res = await kv.prewrite(context(r.context), {
          mutations: r.mutations.map(mutation),
          primary: r.primaryLock,
          startTs: ts(r.startVersion),
          lockTtl: uint64ToNumber(r.lockTtl, 'lock_ttl'),
          skipConstraintCheck: r.skipConstraintCheck,
          isPessimisticLock: r.isPessimisticLock,
          txnSize: uint64ToNumber(r.txnSize, 'txn_size'),
          forUpdateTs: ts(r.forUpdateTs),
          minCommitTs: ts(r.minCommitTs),
          useAsyncCommit: r.useAsyncCommit,
          secondaries: r.secondaries,
          tryOnePc: r.tryOnePc,
          maxCommitTs: ts(r.maxCommitTs),
        });
        return {
          errors: res.errors.map(keyErrorToProto),
          minCommitTs: toUint64(res.minCommitTs),
          onePcCommitTs: toUint64(res.onePcCommitTs),
        };
      }, failures),
    commit: (r) =>
      run(async () => {
        await kv.commit(context(r.context), r.keys, ts(r.startVersion), ts(r.commitVersion));
        return { commitVersion: r.commitVersion };
      }),
    batchRollback: (r) =>
      run(async () => (await kv.batchRollback(context(r.context), r.keys, ts(r.startVersion)), {})),
    checkTxnStatus: (r) =>
      run(async () => {
        const s = await kv.checkTxnStatus(context(r.context), {
          primaryKey: r.primaryKey,
          lockTs: ts(r.lockTs),
          callerStartTs: ts(r.callerStartTs),
          currentTs: ts(r.currentTs),
          rollbackIfNotExist: r.rollbackIfNotExist,
          forceSyncCommit: r.forceSyncCommit,
          resolvingPessimisticLock: r.resolvingPessimisticLock,
        });
        return {
          lockTtl: toUint64(s.lockTtl),
          commitVersion: toUint64(s.commitTs),
          action: s.action,
          ...(s.lock ? { lockInfo: lockInfoToProto(s.lock) } : {}),
        };
      }),
    checkSecondaryLocks: (r) =>
      run(async () => {
        const s = await kv.checkSecondaryLocks(context(r.context), r.keys, ts(r.startVersion));
        switch (s.kind) {
          case 'locked':
            return { locks: s.locks.map(lockInfoToProto), commitTs: '0' };
          case 'committed':
            return { locks: [], commitTs: toUint64(s.commitTs) };
          case 'rolledBack':
            return { locks: [], commitTs: '0' };
        }
      }),
    resolveLock: (r) =>
      run(async () => {
        const status = new Map<bigint, bigint>();
        if (r.txnInfos.length > 0) {
          for (const t of r.txnInfos) status.set(ts(t.txn), ts(t.status));
        } else {
          status.set(ts(r.startVersion), ts(r.commitVersion));
        }
        await kv.resolveLock(context(r.context), status, r.keys);
        return {};
      }),
    txnHeartBeat: (r) =>
      run(async () => ({
        lockTtl: toUint64(
          await kv.txnHeartBeat(
            context(r.context),
            r.primaryLock,
            ts(r.startVersion),
            uint64ToNumber(r.adviseLockTtl, 'advise_lock_ttl'),
          ),
        ),
      })),
    scanLock: (r) =>
      run(async () => ({
        locks: (
          await kv.scanLock(context(r.context), ts(r.maxVersion), r.startKey, r.endKey, r.limit)
        ).map(lockInfoToProto),
      })),
    pessimisticLock: (r) =>
      run(async () => {
        const values = await kv.pessimisticLock(
          context(r.context),
          {
            mutations: r.mutations.map(mutation),
            primary: r.primaryLock,
            startTs: ts(r.startVersion),
            lockTtl: uint64ToNumber(r.lockTtl, 'lock_ttl'),
            forUpdateTs: ts(r.forUpdateTs),
            returnValues: r.returnValues,
            minCommitTs: ts(r.minCommitTs),
          },
          int64ToNumber(r.waitTimeout, 'wait_timeout'),
        );
        return r.returnValues
          ? {
              values: values.map((v) => v ?? EMPTY),
              notFounds: values.map((v) => v === undefined),
            }
          : {};
      }, failures),
    pessimisticRollback: (r) =>
      run(
        async () => (
          await kv.pessimisticRollback(
            context(r.context),
            r.keys,
            ts(r.startVersion),
            ts(r.forUpdateTs),
          ),
          {}
        ),
        failures,
      ),
  };
}
