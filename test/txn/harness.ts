// Runs Percolator actions over a real Region engine on a temp dir (the layer below the
// actions), applying each action's writes as the Region applier would (storedKey), and
// offers TiKV-style must_* helpers for the tests.
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { RegionEngine, WriteOp as EngineOp } from '../../src/storage/region_engine.js';
import { storedKey } from '../../src/store/txn_apply.js';
import { ActionIo } from '../../src/txn/actions/common.js';
import { commit } from '../../src/txn/actions/commit.js';
import { prewrite, PrewriteArgs, PrewriteResult } from '../../src/txn/actions/prewrite.js';
import { batchRollback } from '../../src/txn/actions/rollback.js';
import { KeyError, KeyErrorDetail } from '../../src/txn/errors.js';
import { MvccReader } from '../../src/txn/mvcc/reader.js';
import { MvccTxn } from '../../src/txn/mvcc/txn_writes.js';
import { pointGet } from '../../src/txn/snapshot_read.js';
import { tempDir } from '../storage/tmp.js';

export const b = (s: string) => Buffer.from(s);

export class TxnEngine {
  readonly engine: RegionEngine;
  private index = 5;
  /** max_ts as a concurrency manager would hold it. */
  maxTs = 0n;

  constructor(t: TestContext) {
    this.engine = new RegionEngine(tempDir(t), 1);
    this.engine.writeState({ apply: { appliedIndex: this.index, appliedTerm: 1 } });
    t.after(() => this.engine.close());
  }

  get reader(): MvccReader {
    return new MvccReader(this.engine);
  }

  /** Run an action; if it returns (does not throw), apply its writes in one batch. */
  run<T>(f: (io: ActionIo) => T): T {
    const io: ActionIo = { reader: this.reader, txn: new MvccTxn() };
    const r = f(io);
    const ops: EngineOp[] = io.txn.writes.map((w) => {
      if (w.op === 'put') return { op: 'put', table: w.cf, key: storedKey(w), value: w.value };
      if (w.op === 'delete') return { op: 'delete', table: w.cf, key: storedKey(w) };
      throw new Error(`unexpected op ${w.op}`);
    });
    this.index++;
    this.engine.applyBatch(ops, { appliedIndex: this.index, appliedTerm: 1 });
    return r;
  }

  /** Run an action that must fail with a KeyError of this kind; nothing is applied. */
  runErr(f: (io: ActionIo) => unknown, kind: KeyErrorDetail['kind']): KeyError {
    const io: ActionIo = { reader: this.reader, txn: new MvccTxn() };
    try {
      f(io);
    } catch (e) {
      assert.ok(e instanceof KeyError, `expected a KeyError, got ${String(e)}`);
      assert.equal(e.detail.kind, kind, e.message);
      return e;
    }
    assert.fail(`expected a ${kind} KeyError`);
  }

  prewrite(a: PrewriteArgs): PrewriteResult {
    return this.run((io) => prewrite(io, a, this.maxTs));
  }

  mustPrewritePut(key: string, value: string, primary: string, startTs: bigint, ttl = 3000): void {
    const r = this.prewrite({
      mutations: [{ op: 'put', key: b(key), value: b(value) }],
      primary: b(primary),
      startTs,
      lockTtl: ttl,
    });
    assert.deepEqual(r.errors, []);
  }

  mustPrewriteDelete(key: string, primary: string, startTs: bigint): void {
    const r = this.prewrite({
      mutations: [{ op: 'delete', key: b(key) }],
      primary: b(primary),
      startTs,
      lockTtl: 3000,
    });
    assert.deepEqual(r.errors, []);
  }

  /** The prewrite's single error kind. */
  prewriteErr(
    key: string,
    value: string,
    primary: string,
    startTs: bigint,
  ): KeyErrorDetail['kind'] {
    const r = this.prewrite({
      mutations: [{ op: 'put', key: b(key), value: b(value) }],
      primary: b(primary),
      startTs,
      lockTtl: 3000,
    });
    assert.equal(r.errors.length, 1);
    return r.errors[0]!.detail.kind;
  }

  mustCommit(key: string, startTs: bigint, commitTs: bigint): void {
    this.run((io) => commit(io, [b(key)], startTs, commitTs));
  }

  mustRollback(key: string, startTs: bigint): void {
    this.run((io) => batchRollback(io, [b(key)], startTs));
  }

  get(key: string, ts: bigint): string | undefined {
    return pointGet(this.reader, b(key), ts)?.toString();
  }

  mustGet(key: string, ts: bigint, value: string | undefined): void {
    assert.equal(this.get(key, ts), value);
  }

  mustLocked(key: string, startTs: bigint): void {
    const l = this.reader.loadLock(b(key));
    assert.ok(l, `key ${key} should be locked`);
    assert.equal(l.startTs, startTs);
  }

  mustUnlocked(key: string): void {
    assert.equal(this.reader.loadLock(b(key)), undefined, `key ${key} should not be locked`);
  }
}
