// The apply side of a Region peer (TiKV splits raftstore the same way: the peer drives
// Raft, the applier executes what Raft committed). It turns committed entries into
// changes of the Region engine — one transaction per loop turn, together with the new
// apply index — and into an outcome for every client request they carry.
//
// Every check here runs identically on every replica, because it depends only on the
// entry and on state earlier entries produced: the epoch the proposer stamped, the
// Region's key range, and the session records of exactly-once writes.
import {
  ConfChange,
  ConfState,
  Entry,
  EntryType,
  decodeConfChange,
  invariant,
} from '../raft/index.js';
import { decodeConfChangeContext, regionAfterConfChange, sameConfState } from './conf_change.js';
import { RegionError } from '../region/errors.js';
import { Region, cloneRegion, keyInRegion } from '../region/meta.js';
import { RegionEngine } from '../storage/region_engine.js';
import { ApplyBatch } from './apply_batch.js';
import { storedKey } from './txn_apply.js';
import { ClientRequest, RaftCommand, WriteOp, WriteResult, decodeCommand } from './cmd/command.js';
import {
  MergeCommandError,
  MergeOutcome,
  MergeSourceReplica,
  applyCommitMerge,
  commitSourceState,
  deriveCommit,
  derivePrepare,
  deriveRollback,
} from './merge_apply.js';
import { MergeState } from '../storage/region_state.js';
import {
  SplitCommandError,
  SplitContext,
  SplitResult,
  applySplit,
  commitSplitParent,
  deriveSplit,
  splitResult,
} from './split_apply.js';
import { failpoint } from '../common/failpoint.js';
import {
  DEFAULT_SESSION_OPTIONS,
  SESSION_GC_INTERVAL,
  SessionOptions,
  SessionTable,
} from './session_table.js';

/** One request's outcome: its result, or why it was not applied. */
export type RequestOutcome = WriteResult | Error;

/**
 * An entry's outcome: one per request it carried, or one error for all of them; a split
 * answers with the Regions it made.
 */
export type EntryOutcome = RequestOutcome[] | SplitResult | MergeOutcome | Error;

export interface AppliedEntry {
  index: number;
  term: number;
  outcome: EntryOutcome;
}

/** A split whose copy runs off the loop: the entry, the Regions, and the entries held back. */
export interface SuspendedSplit {
  entry: Entry;
  split: { parent: Region; created: Region[] };
  rest: Entry[];
}

/** How a conf-change entry reaches Raft and the peer (peer.ts). */
export interface ConfChangeHooks {
  /** Apply the change to Raft's configuration; the configuration before and after. */
  apply(cc: ConfChange): { before: ConfState; after: ConfState };
  /** The Region's meta changed by a conf change: the peer takes it at once. */
  setRegion(r: Region): void;
}

/** What admin commands change beyond the Region's own engine. */
export interface AdminApplyContext extends SplitContext {
  /** The Region's meta changed (split): the peer takes it before the next entry. */
  setRegion(r: Region): void;
  /** The Region's merge fence as applied so far (merge_apply.ts). */
  merging?(): MergeState | undefined;
  /**
   * The fence changed (PrepareMerge set it, RollbackMerge lifted it): the peer takes it
   * before the next entry, like setRegion — a lagging replica applies a prepare and its
   * rollback in one batch, and the rollback must see the fence.
   */
  setMerging?(m: MergeState | undefined): void;
  /** This store's replica of a merge source (CommitMerge), if hosted here. */
  mergeSource?(regionId: number): MergeSourceReplica | undefined;
}

export class RegionApplier {
  private readonly sessions: SessionTable;

  constructor(
    private readonly engine: RegionEngine,
    /** The Region as the peer knows it now (its meta changes with admin commands). */
    private readonly region: () => Region,
    /** Conf-change entries are the peer's to apply (Raft's membership view moves too). */
    private readonly confChange: ConfChangeHooks,
    sessionOptions: SessionOptions = DEFAULT_SESSION_OPTIONS,
    /** Without it, admin commands fail (unit tests of data apply alone). */
    private readonly admin?: AdminApplyContext,
  ) {
    this.sessions = new SessionTable(sessionOptions ?? DEFAULT_SESSION_OPTIONS);
  }

  /**
   * Apply entries (in order, all committed) in one engine transaction with the apply
   * state of the last one. Returns the outcome of every client command among them.
   */
  apply(entries: Entry[]): AppliedEntry[] {
    return this.applyEntries(entries, false).applied;
  }

  /**
   * Like apply(), but with `suspendSplits` a valid split stops the batch: everything
   * before it is committed, and the split comes back to be copied off the loop and
   * finished with finishSplit(); the entries after it are not applied.
   */
  applyEntries(
    entries: Entry[],
    suspendSplits: boolean,
  ): {
    applied: AppliedEntry[];
    suspended?: SuspendedSplit;
    appliedTo?: Entry;
    /** From a CommitMerge whose source replica is copying a split: not applied, to retry. */
    waiting?: Entry[];
  } {
    let batch = new ApplyBatch(this.engine);
    const applied: AppliedEntry[] = [];
    /** The last entry whose effects are in `batch` (not yet committed), if any. */
    let pending: Entry | undefined;
    /** Whether `batch` holds more than empty entries: anything to write but the index. */
    let changes = false;
    for (const e of entries) {
      if (e.data.length > 0 || e.type === EntryType.ConfChange) changes = true;
      if (e.type === EntryType.ConfChange) {
        const next = this.applyConfChange(e);
        // The new meta commits with this entry's apply index (one transaction): a crash
        // replays the entry against the old meta, or finds both done. A merge fence stays
        // with it: a fenced source may apply a change its leader proposed before it knew
        // of the fence, and a restart must not find the replica unfenced (it would take
        // writes its fenced peers refuse).
        if (next) batch.setRegion(next, this.admin?.merging?.());
        pending = e;
        continue;
      }
      if (e.data.length === 0) {
        pending = e; // a new leader's empty entry
        continue;
      }
      const admin = this.decodeAdmin(e);
      if (admin === undefined) {
        applied.push({ index: e.index, term: e.term, outcome: this.applyNormal(e, batch) });
        pending = e;
        continue;
      }
      if (this.sourceSplitting(admin)) {
        // The source replica here applies nothing while its split is copied off the loop,
        // so the CommitMerge could not catch it up to its PrepareMerge: it waits, with
        // everything after it (the peer holds them), until that split is done.
        if (pending && changes) this.commit(batch, pending);
        const at = entries.indexOf(e);
        return { applied, waiting: entries.slice(at), appliedTo: entries[at - 1] };
      }
      // An admin command reads and moves the engine's committed state (a split copies
      // the parent's rows to other files), so what came before it is committed first, as
      // TiKV flushes its write batch before an admin command.
      if (pending) this.commit(batch, pending);
      pending = undefined;
      batch = new ApplyBatch(this.engine);
      changes = false;
      if (!(admin instanceof Error) && admin.admin!.kind !== 'batchSplit') {
        const outcome = this.applyMerge(admin, e);
        applied.push({ index: e.index, term: e.term, outcome });
        pending = outcome instanceof Error ? e : undefined;
        changes = pending !== undefined;
        continue;
      }
      const prepared = this.prepareAdmin(admin);
      if (suspendSplits && !(prepared instanceof Error)) {
        const rest = entries.slice(entries.indexOf(e) + 1);
        return { applied, suspended: { entry: e, split: prepared, rest } };
      }
      const outcome =
        prepared instanceof Error
          ? prepared
          : this.finishSplit({ entry: e, split: prepared, rest: [] });
      applied.push({ index: e.index, term: e.term, outcome });
      // A refused admin command changed nothing: its index rides on the next commit.
      pending = outcome instanceof Error ? e : undefined;
      changes = pending !== undefined;
    }
    // Empty entries only (a new leader's, Raft thesis §6.4): nothing to write, so the
    // apply index moves in memory alone and reaches the file with the next write. A
    // restart applies those entries again, which changes nothing; the log is never
    // compacted past the file's index (flush() reports only what the file holds), so
    // they are still there to apply. An election no longer opens every Region's file —
    // at thousands of Regions, mostly closed, that open, write and close was most of
    // the store's work until every Region had a leader.
    if (pending && changes) this.commit(batch, pending);
    return { applied, appliedTo: entries[entries.length - 1] };
  }

  /**
   * Steps 1 and 2 of a split on this thread (split_apply.ts); or step 2 after an off-loop
   * copy; or, when step 2 ran off the loop as well, taking in what it wrote.
   */
  finishSplit(
    s: SuspendedSplit,
    copied?: { skipped: number[]; parentCommitted?: boolean },
  ): SplitResult {
    const apply = { index: s.entry.index, term: s.entry.term };
    let result: SplitResult;
    if (copied) {
      if (copied.parentCommitted) {
        // Written on another connection: the engine's cached state is stale.
        this.engine.reloadState();
        const st = this.engine.applyState();
        invariant(
          st.appliedIndex === apply.index && st.appliedTerm === apply.term,
          () => `split at ${apply.index}: the parent's file is at ${st.appliedIndex}`,
        );
      } else {
        commitSplitParent(this.engine, s.split, apply);
      }
      failpoint('split_parent_after');
      result = splitResult(s.split, copied.skipped);
    } else {
      result = applySplit(this.engine, s.split, apply, this.admin!);
    }
    this.admin!.setRegion(result.parent);
    return result;
  }

  private commit(batch: ApplyBatch, last: Entry): void {
    this.sessions.flush(batch);
    batch.commit({ appliedIndex: last.index, appliedTerm: last.term });
  }

  /** The entry's admin command, undefined for a data command; an Error if undecodable. */
  private decodeAdmin(e: Entry): RaftCommand | Error | undefined {
    let cmd: RaftCommand;
    try {
      cmd = decodeCommand(e.data);
    } catch {
      return undefined; // applyNormal answers it with the same decode error
    }
    return cmd.admin ? cmd : undefined;
  }

  /** Why an admin command cannot apply to this Region at all (alike on every replica). */
  private checkAdmin(cmd: RaftCommand): Error | undefined {
    const region = this.region();
    if (cmd.regionId !== region.id) {
      return new RegionError({ kind: 'RegionNotFound', regionId: cmd.regionId });
    }
    // An admin command was prepared against the whole epoch (a split maps the parent's
    // peers to new ids in order): both parts must still be the same.
    if (cmd.epoch.version !== region.epoch.version || cmd.epoch.confVer !== region.epoch.confVer) {
      return new RegionError({ kind: 'EpochNotMatch', currentRegions: [cloneRegion(region)] });
    }
    if (!this.admin) return new Error('this replica cannot apply admin commands');
    return undefined;
  }

  /**
   * PrepareMerge / CommitMerge / RollbackMerge (merge_apply.ts): each commits its own
   * transaction with the entry's apply index; a refused one changes nothing.
   */
  private applyMerge(cmd: RaftCommand, e: Entry): MergeOutcome | Error {
    const refused = this.checkAdmin(cmd);
    if (refused) return refused;
    const admin = cmd.admin!;
    const ctx = this.admin!;
    const region = this.region();
    const apply = { index: e.index, term: e.term };
    const merging = ctx.merging?.();
    switch (admin.kind) {
      case 'prepareMerge': {
        const p = derivePrepare(region, merging, admin, e.index);
        if (p instanceof Error) return p;
        commitSourceState(this.engine, p.region, p.merging, apply);
        ctx.setRegion(p.region);
        ctx.setMerging?.(p.merging);
        return { kind: 'prepared', region: cloneRegion(p.region), merging: p.merging };
      }
      case 'rollbackMerge': {
        const r = deriveRollback(region, merging, admin);
        if (r instanceof Error) return r;
        commitSourceState(this.engine, r, undefined, apply);
        ctx.setRegion(r);
        ctx.setMerging?.(undefined);
        return { kind: 'rolledBack', region: cloneRegion(r) };
      }
      case 'commitMerge': {
        const merged = deriveCommit(region, admin);
        if (merged instanceof Error) return merged;
        const source = ctx.mergeSource?.(admin.source.id);
        // Same stores is a precondition of the prepare: a target replica without its
        // source replica cannot take the merge, and skipping it would leave this replica
        // with another range than its peers. Stop rather than diverge.
        if (!source)
          throw new MergeCommandError(
            `region ${region.id}: commit merge of region ${admin.source.id}, which this store does not host`,
          );
        applyCommitMerge(this.engine, source, admin, merged, apply);
        // The target's session records changed in the engine: read them afresh.
        this.sessions.reset();
        ctx.setRegion(merged);
        return {
          kind: 'committed',
          region: cloneRegion(merged),
          source: cloneRegion(admin.source),
        };
      }
      default:
        throw new Error(`not a merge command: ${admin.kind}`);
    }
  }

  /** Whether `cmd` is a CommitMerge whose source replica here is copying a split. */
  private sourceSplitting(cmd: RaftCommand | Error): boolean {
    if (cmd instanceof Error || cmd.admin?.kind !== 'commitMerge') return false;
    return this.admin?.mergeSource?.(cmd.admin.source.id)?.splitInFlight() ?? false;
  }

  /** The split an admin command asks for, or why it cannot apply (alike on every replica). */
  private prepareAdmin(cmd: RaftCommand | Error): { parent: Region; created: Region[] } | Error {
    if (cmd instanceof Error) return cmd;
    const refused = this.checkAdmin(cmd);
    if (refused) return refused;
    const admin = cmd.admin!;
    if (admin.kind !== 'batchSplit') return new Error(`not a split: ${admin.kind}`);
    let split;
    try {
      split = deriveSplit(this.region(), admin.splits);
    } catch (err) {
      if (err instanceof SplitCommandError) return err;
      throw err;
    }
    return split;
  }

  /**
   * A committed conf change: Raft's configuration and the Region's peers move together,
   * conf_ver + 1; the new Region, or undefined when the change was skipped. Skipped alike
   * on every replica: an entry proposed against another conf_ver (a change applied in
   * between, TiKV's epoch check of ChangePeer), a change other than leaving a joint
   * configuration without a context (no proposer of ours writes one), or one Raft refuses
   * as invalid now (its configuration is then unchanged).
   */
  private applyConfChange(e: Entry): Region | undefined {
    const region = this.region();
    const cc = decodeConfChange(e.data);
    let peers: { id: number; storeId: number }[] = [];
    if (cc.context && cc.context.length > 0) {
      let ctx;
      try {
        ctx = decodeConfChangeContext(cc.context);
      } catch {
        return undefined;
      }
      if (ctx.regionId !== region.id || ctx.epoch.confVer !== region.epoch.confVer)
        return undefined;
      peers = ctx.peers;
    } else if (cc.changes.length > 0) {
      return undefined;
    }
    const { before, after } = this.confChange.apply(cc);
    if (sameConfState(before, after)) return undefined;
    const next = regionAfterConfChange(region, after, peers);
    this.confChange.setRegion(next);
    return next;
  }

  /** The engine's contents were replaced by a snapshot. */
  onSnapshotInstalled(): void {
    this.sessions.reset();
  }

  private applyNormal(e: Entry, batch: ApplyBatch): EntryOutcome {
    let cmd: RaftCommand;
    try {
      cmd = decodeCommand(e.data);
    } catch (err) {
      // Every replica decodes the same bytes the same way: skipping is consistent.
      return err as Error;
    }
    const region = this.region();
    if (cmd.regionId !== region.id) {
      return new RegionError({ kind: 'RegionNotFound', regionId: cmd.regionId });
    }
    // A write proposed under an older version (before a split/merge) may touch keys the
    // Region no longer owns: refuse it at apply time, on every replica alike.
    if (cmd.epoch.version !== region.epoch.version) {
      return new RegionError({ kind: 'EpochNotMatch', currentRegions: [cloneRegion(region)] });
    }
    if (e.index % SESSION_GC_INTERVAL === 0) this.sessions.collectGarbage(batch, cmd.timeMs);
    return cmd.requests.map((req) => this.applyRequest(req, cmd.timeMs, region, batch));
  }

  private applyRequest(
    req: ClientRequest,
    timeMs: number,
    region: Region,
    batch: ApplyBatch,
  ): RequestOutcome {
    if (req.session) {
      const v = this.sessions.check(batch, req.session, timeMs);
      if (v.kind === 'duplicate') return v.result;
      if (v.kind === 'gone') {
        return new RegionError({
          kind: 'SessionRecordGone',
          regionId: region.id,
          seq: req.session.seq,
          floor: v.floor,
        });
      }
    }
    // Requests are checked against the range when they arrive, but the range may have
    // changed since, and an entry may not come from our own leader's checks at all.
    const outside = firstKeyOutside(req.writes, region);
    if (outside) {
      return new RegionError({
        kind: 'KeyNotInRegion',
        key: outside,
        regionId: region.id,
        startKey: region.startKey,
        endKey: region.endKey,
      });
    }
    const result = executeWrites(req.writes, batch);
    if (req.session) this.sessions.record(req.session, timeMs, result);
    return result;
  }
}

/** The first key (or range bound) of the writes that lies outside the Region, if any. */
function firstKeyOutside(writes: WriteOp[], r: Region): Buffer | undefined {
  for (const w of writes) {
    if (w.op === 'deleteRange') {
      if (!keyInRegion(w.start, r)) return w.start;
      // The end is exclusive: it may equal the Region's end, and is unbounded only if the
      // Region is.
      if (w.end.length === 0 ? r.endKey.length > 0 : !endWithin(w.end, r)) return w.end;
    } else if (!keyInRegion(w.key, r)) {
      return w.key;
    }
  }
  return undefined;
}

function endWithin(end: Buffer, r: Region): boolean {
  return (
    Buffer.compare(end, r.startKey) > 0 &&
    (r.endKey.length === 0 || Buffer.compare(end, r.endKey) <= 0)
  );
}

/** Execute one request's writes into the batch; a CAS reports its outcome. */
function executeWrites(writes: WriteOp[], batch: ApplyBatch): WriteResult {
  const result: WriteResult = {};
  for (const op of writes) {
    switch (op.op) {
      case 'put':
        batch.put(op.cf, storedKey(op), op.value);
        break;
      case 'delete':
        batch.delete(op.cf, storedKey(op));
        break;
      case 'deleteRange':
        batch.deleteRange(op.cf, op.start, op.end);
        break;
      case 'cas': {
        const current = batch.get(op.cf, op.key) ?? null;
        const succeeded =
          op.previous === null ? current === null : current !== null && current.equals(op.previous);
        if (succeeded) batch.put(op.cf, op.key, op.value);
        result.casSucceeded = succeeded;
        result.casPrevious = current;
        break;
      }
    }
  }
  return result;
}
