// Exactly-once writes: the session records of one Region's state machine (Raft thesis
// §6.3, "Implementing linearizable semantics").
//
// A client names itself with a random session id and numbers its write requests; a retry
// of a request reuses its number. Apply consults this table before executing a request:
//   - a number it has a record of was applied before: answer from the record, apply nothing;
//   - a number below the session's floor was answered long ago (the client said so) or
//     its record was evicted: it must not be applied now, and its outcome is not known
//     here, so the request fails with SessionRecordGone (the client reports it as
//     undetermined and never retries it);
//   - anything else is applied, and its result recorded.
// Each request also carries the client's lowest unanswered number: records below it can
// never be asked for again, so the floor rises to it and they are dropped — the thesis's
// way of bounding the table without a per-request acknowledgement.
//
// Everything here is a deterministic function of the log: the records live in the Region
// engine's `session` table, written in the same transaction as the data they describe,
// and a session expires by the time carried in the log entries (the proposing leader's
// clock), never by a replica's own clock. So every replica, and every replay after a
// crash, makes the same decision at the same index.
import { ApplyBatch } from './apply_batch.js';
import { BinaryReader, BinaryWriter } from './cmd/binary.js';
import { SessionStamp, WriteResult } from './cmd/command.js';

export interface SessionOptions {
  /**
   * A session no request has touched for this long (log time) is forgotten. Clients stop
   * retrying a request well before (see src/client/session.ts), so a retry can never
   * meet a session that expired under it.
   */
  ttlMs: number;
  /** Records kept per session; beyond it the oldest go and the floor rises past them. */
  maxRecordsPerSession: number;
  /** A CAS result whose previous value is larger is remembered as 'forgotten'. */
  maxKeptResultBytes: number;
}

export const DEFAULT_SESSION_OPTIONS: SessionOptions = {
  ttlMs: 5 * 60_000,
  maxRecordsPerSession: 4096,
  maxKeptResultBytes: 64 << 10,
};

/** Expired sessions are deleted when an entry whose index is a multiple of this applies. */
export const SESSION_GC_INTERVAL = 4096;

/** What apply remembers of a request: its result, or only that it was applied. */
type Remembered = WriteResult | 'forgotten';

interface SessionState {
  lastActiveMs: number;
  /** Requests numbered below this are never applied again. */
  floor: number;
  records: Map<number, Remembered>;
}

export type SessionVerdict =
  { kind: 'apply' } | { kind: 'duplicate'; result: WriteResult } | { kind: 'gone'; floor: number };

const RECORD_VERSION = 1;
const PLAIN = 0;
const CAS_ABSENT = 1;
const CAS_VALUE = 2;
const FORGOTTEN = 3;

export function encodeSessionState(s: SessionState): Buffer {
  const w = new BinaryWriter(32 + s.records.size * 16);
  w.u8(RECORD_VERSION).num(s.lastActiveMs).num(s.floor).u32(s.records.size);
  for (const [seq, r] of s.records) {
    w.num(seq);
    if (r === 'forgotten') w.u8(FORGOTTEN);
    else if (r.casSucceeded === undefined) w.u8(PLAIN);
    else if (r.casPrevious === null || r.casPrevious === undefined)
      w.u8(CAS_ABSENT).u8(r.casSucceeded ? 1 : 0);
    else
      w.u8(CAS_VALUE)
        .u8(r.casSucceeded ? 1 : 0)
        .bytes(r.casPrevious);
  }
  return w.finish();
}

export function decodeSessionState(data: Uint8Array): SessionState {
  const r = new BinaryReader(data);
  if (r.u8() !== RECORD_VERSION) throw new Error('unknown session record version');
  const lastActiveMs = r.num();
  const floor = r.num();
  const n = r.u32();
  const records = new Map<number, Remembered>();
  for (let i = 0; i < n; i++) {
    const seq = r.num();
    const kind = r.u8();
    switch (kind) {
      case PLAIN:
        records.set(seq, {});
        break;
      case FORGOTTEN:
        records.set(seq, 'forgotten');
        break;
      case CAS_ABSENT:
        records.set(seq, { casSucceeded: r.u8() === 1, casPrevious: null });
        break;
      case CAS_VALUE: {
        const casSucceeded = r.u8() === 1;
        // Copy: the record outlives the buffer it was read from.
        records.set(seq, { casSucceeded, casPrevious: Buffer.from(r.bytes()) });
        break;
      }
      default:
        throw new Error(`unknown session record kind ${kind}`);
    }
  }
  if (!r.done()) throw new Error('trailing bytes in session record');
  return { lastActiveMs, floor, records };
}

function fresh(): SessionState {
  return { lastActiveMs: 0, floor: 0, records: new Map() };
}

export class SessionTable {
  /** Sessions read or written since the last reset, by id (latin1). */
  private readonly cache = new Map<string, SessionState>();
  /** Sessions changed in the current apply batch. */
  private readonly dirty = new Map<string, Buffer>();

  constructor(private readonly opts: SessionOptions = DEFAULT_SESSION_OPTIONS) {}

  private load(batch: ApplyBatch, id: Buffer, timeMs: number): SessionState {
    const slot = id.toString('latin1');
    let s = this.cache.get(slot);
    if (!s) {
      const raw = batch.get('session', id);
      s = raw ? decodeSessionState(raw) : fresh();
      this.cache.set(slot, s);
    }
    if (this.expired(s, timeMs)) {
      s = fresh();
      this.cache.set(slot, s);
    }
    return s;
  }

  private expired(s: SessionState, timeMs: number): boolean {
    return s.lastActiveMs > 0 && s.lastActiveMs + this.opts.ttlMs < timeMs;
  }

  /** What to do with a request of a session, applied at log time `timeMs`. */
  check(batch: ApplyBatch, stamp: SessionStamp, timeMs: number): SessionVerdict {
    const s = this.load(batch, stamp.id, timeMs);
    const seen = s.records.get(stamp.seq);
    let verdict: SessionVerdict;
    if (seen !== undefined && seen !== 'forgotten') verdict = { kind: 'duplicate', result: seen };
    else if (seen === 'forgotten' || stamp.seq < s.floor)
      verdict = { kind: 'gone', floor: s.floor };
    else return { kind: 'apply' };
    // A retry still says which requests the client is done with.
    this.advance(stamp, s, timeMs);
    return verdict;
  }

  /** The request was applied with `result`: remember it. */
  record(stamp: SessionStamp, timeMs: number, result: WriteResult): void {
    const s = this.cache.get(stamp.id.toString('latin1'));
    if (!s) throw new Error('session record(): check() was not called first');
    const prev = result.casPrevious;
    const keep = prev === undefined || prev === null || prev.length <= this.opts.maxKeptResultBytes;
    s.records.set(stamp.seq, keep ? { ...result } : 'forgotten');
    this.advance(stamp, s, timeMs);
  }

  private advance(stamp: SessionStamp, s: SessionState, timeMs: number): void {
    s.lastActiveMs = Math.max(s.lastActiveMs, timeMs);
    const floor = s.floor;
    if (stamp.lowestPending > s.floor) s.floor = stamp.lowestPending;
    if (s.records.size > this.opts.maxRecordsPerSession) {
      // Evict the oldest; the floor rises past them, so their retries are refused.
      const seqs = [...s.records.keys()].sort((a, b) => a - b);
      const cut = seqs[seqs.length - this.opts.maxRecordsPerSession]!;
      if (cut > s.floor) s.floor = cut;
    }
    // Only a rising floor leaves records below it (a request is recorded only if its
    // number was at or above the floor): prune then, not on every request of the batch.
    if (s.floor > floor) {
      for (const seq of s.records.keys()) if (seq < s.floor) s.records.delete(seq);
    }
    this.dirty.set(stamp.id.toString('latin1'), stamp.id);
  }

  /** Write the sessions changed by this batch into it (once each, however many requests). */
  flush(batch: ApplyBatch): void {
    for (const [slot, id] of this.dirty) {
      const s = this.cache.get(slot);
      if (s) batch.put('session', id, encodeSessionState(s));
    }
    this.dirty.clear();
  }

  /**
   * Delete every session expired at log time `timeMs`. Expired sessions already act as
   * absent (load()), so deleting them changes no answer; doing it at fixed log indexes
   * keeps the tables of all replicas identical as well.
   */
  collectGarbage(batch: ApplyBatch, timeMs: number): number {
    let removed = 0;
    for (const row of batch.engineScan('session')) {
      const slot = row.key.toString('latin1');
      // A session changed in this batch is judged by its new state, any other by its row.
      const s = this.dirty.has(slot) ? this.cache.get(slot)! : decodeSessionState(row.value!);
      if (this.expired(s, timeMs)) {
        batch.delete('session', row.key);
        this.cache.delete(slot);
        this.dirty.delete(slot);
        removed++;
      }
    }
    // Keep memory to the sessions in use: clean entries reload from the table on demand.
    for (const slot of [...this.cache.keys()]) if (!this.dirty.has(slot)) this.cache.delete(slot);
    return removed;
  }

  /** The engine's contents were replaced (snapshot): forget everything cached. */
  reset(): void {
    this.cache.clear();
    this.dirty.clear();
  }
}
