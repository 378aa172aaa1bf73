// The payload of a Normal Raft entry in a Region's log: the client requests a leader
// proposed together in one loop turn, stamped with the Region epoch the proposer saw and
// the proposer's wall-clock time.
//
// - Apply re-checks the epoch, so a write proposed before a split is refused rather than
//   applied to keys the Region no longer owns.
// - Each request keeps its own boundary and, when the client has a session, its session
//   id and sequence number: apply answers a retried request from the session's record
//   instead of applying it twice (Raft thesis §6.3; src/store/session_table.ts).
// - The time is "time carried in the log": sessions expire by it, so every replica
//   decides expiry identically whatever its own clock says.
import { PeerRole, Region, RegionEpoch } from '../../region/meta.js';
import { Entry, EntryType } from '../../raft/index.js';
import { DATA_TABLES, DataTable } from '../../storage/region_schema.js';
import { BinaryReader, BinaryWriter, MalformedCommandError } from './binary.js';

/** A column family: raw KV, or one of Percolator's three MVCC families. */
export type Cf = DataTable;

/**
 * A put or delete in an MVCC table (lock / write / default) names the USER key and, for
 * write and default, the version `ts`; apply stores it at the MVCC layout
 * (src/txn/mvcc/key_codec.ts). Region checks thus see user keys, as for raw writes.
 */
export type WriteOp =
  | { op: 'put'; cf: Cf; key: Buffer; value: Buffer; ts?: bigint }
  | { op: 'delete'; cf: Cf; key: Buffer; ts?: bigint }
  | { op: 'deleteRange'; cf: Cf; start: Buffer; end: Buffer }
  /** Raw compare-and-swap: put value iff the current value is `previous` (or absent). */
  | { op: 'cas'; cf: Cf; key: Buffer; value: Buffer; previous: Buffer | null };

/** Who sent a request and which of its requests this is (thesis §6.3). */
export interface SessionStamp {
  /** Random bytes chosen by the client, 1..MAX_SESSION_ID_BYTES long. */
  id: Buffer;
  /** Unique per request of the session; retries of one request reuse it. */
  seq: number;
  /** Every request of the session below this number has been answered: forget them. */
  lowestPending: number;
}

export const MAX_SESSION_ID_BYTES = 64;

/** What an applied request answers: a CAS reports whether it swapped, and the old value. */
export interface WriteResult {
  casSucceeded?: boolean;
  casPrevious?: Buffer | null;
}

/** One client request: its writes apply atomically, or not at all. */
export interface ClientRequest {
  session?: SessionStamp;
  writes: WriteOp[];
}

export interface RaftCommand {
  regionId: number;
  epoch: RegionEpoch;
  /** The proposing leader's wall-clock time (ms): the log's clock. */
  timeMs: number;
  requests: ClientRequest[];
  /**
   * An admin command (TiKV's AdminRequest): set, and `requests` empty, when the entry
   * changes the Region itself rather than its data. Applied on every replica alike.
   */
  admin?: AdminCommand;
}

/** One new Region of a batch split: where it starts, and the ids PD allocated for it. */
export interface SplitRequest {
  /** The new Region covers [splitKey, next split key or the parent's end). */
  splitKey: Buffer;
  newRegionId: number;
  /** One per peer of the parent, in the parent's peer order (same store, same role). */
  newPeerIds: number[];
}

/**
 * Admin commands. Split, merge and conf changes all travel this way: the leader checks
 * and prepares (ids from PD), proposes, and apply (src/store/split_apply.ts, ...) does the
 * rest on every replica. New kinds get a new `kind` and a new code below.
 */
export type AdminCommand =
  | { kind: 'batchSplit'; splits: SplitRequest[] }
  | PrepareMergeCommand
  | CommitMergeCommand
  | RollbackMergeCommand;

/**
 * Proposed on the merge SOURCE (TiKV's PrepareMerge): from its apply on, the source takes
 * no more writes. `minIndex` is the lowest index every source replica had in its log when
 * the leader proposed (its followers' match): entries after it are what CommitMerge
 * carries, so a target replica whose source replica lags can catch it up.
 */
export interface PrepareMergeCommand {
  kind: 'prepareMerge';
  minIndex: number;
  /** The target as the source's leader learned it from PD: its epoch must still hold at commit. */
  target: Region;
}

/**
 * Proposed on the merge TARGET (TiKV's CommitMerge): the source as its PrepareMerge left it,
 * the index of that PrepareMerge (`commit`), and the source's log entries (minIndex, commit].
 */
export interface CommitMergeCommand {
  kind: 'commitMerge';
  source: Region;
  commit: number;
  entries: Entry[];
}

/** Proposed on the source when its target can no longer commit: writes resume, version + 1. */
export interface RollbackMergeCommand {
  kind: 'rollbackMerge';
  /** The PrepareMerge index this rollback undoes. */
  commit: number;
}

/** Source log entries one CommitMerge may carry (a bound on what one entry may ask for). */
export const MAX_MERGE_ENTRIES = 4096;

/** Most new Regions one batch split may create (a bound on what one entry can ask for). */
export const MAX_SPLITS_PER_COMMAND = 64;

/** Version 1 had one write list, no sessions and no time; it is still read. */
const VERSION_1 = 1;
const VERSION = 2;
/** An admin command: same header as VERSION, then the admin kind and its body. */
const VERSION_ADMIN = 3;
const ADMIN_CODES = { batchSplit: 1, prepareMerge: 2, commitMerge: 3, rollbackMerge: 4 } as const;
const ROLE_CODES: PeerRole[] = [
  PeerRole.Voter,
  PeerRole.Learner,
  PeerRole.IncomingVoter,
  PeerRole.DemotingVoter,
];
/** Peers per Region: PD refuses more (src/pd/trust_limits.ts MAX_REGION_PEERS). */
const MAX_PEERS = 16;
const OP_CODES = { put: 1, delete: 2, deleteRange: 3, cas: 4 } as const;
/** A put / delete of a version (an MVCC write or default row): the op, then the ts. */
const VERSIONED_PUT = 5;
const VERSIONED_DELETE = 6;
const HAS_SESSION = 1;

function encodeWrites(w: BinaryWriter, writes: WriteOp[]): void {
  w.u32(writes.length);
  for (const op of writes) {
    if ((op.op === 'put' || op.op === 'delete') && op.ts !== undefined) {
      w.u8(op.op === 'put' ? VERSIONED_PUT : VERSIONED_DELETE).u8(DATA_TABLES.indexOf(op.cf));
      w.bytes(op.key).u64(op.ts);
      if (op.op === 'put') w.bytes(op.value);
      continue;
    }
    w.u8(OP_CODES[op.op]).u8(DATA_TABLES.indexOf(op.cf));
    switch (op.op) {
      case 'put':
        w.bytes(op.key).bytes(op.value);
        break;
      case 'delete':
        w.bytes(op.key);
        break;
      case 'deleteRange':
        w.bytes(op.start).bytes(op.end);
        break;
      case 'cas':
        w.bytes(op.key)
          .bytes(op.value)
          .u8(op.previous === null ? 0 : 1);
        if (op.previous !== null) w.bytes(op.previous);
        break;
    }
  }
}

function encodeRegion(w: BinaryWriter, r: Region): void {
  w.num(r.id).bytes(r.startKey).bytes(r.endKey).num(r.epoch.confVer).num(r.epoch.version);
  w.u32(r.peers.length);
  for (const p of r.peers) w.num(p.id).num(p.storeId).u8(ROLE_CODES.indexOf(p.role));
}

function decodeRegion(r: BinaryReader): Region {
  const id = count(r, 'region id');
  const startKey = Buffer.from(r.bytes());
  const endKey = Buffer.from(r.bytes());
  const epoch = { confVer: count(r, 'conf_ver'), version: count(r, 'version') };
  const n = r.u32();
  if (n === 0 || n > MAX_PEERS) throw new MalformedCommandError(`region with ${n} peers`);
  const peers = [];
  for (let i = 0; i < n; i++) {
    const pid = count(r, 'peer id');
    const storeId = count(r, 'store id');
    const role = ROLE_CODES[r.u8()];
    if (role === undefined) throw new MalformedCommandError('unknown peer role');
    peers.push({ id: pid, storeId, role });
  }
  return { id, startKey, endKey, epoch, peers };
}

function encodeAdmin(cmd: RaftCommand, admin: AdminCommand): Buffer {
  let body = 128;
  if (admin.kind === 'commitMerge') for (const e of admin.entries) body += 32 + e.data.length;
  const w = new BinaryWriter(body);
  w.u8(VERSION_ADMIN)
    .num(cmd.regionId)
    .num(cmd.epoch.confVer)
    .num(cmd.epoch.version)
    .num(cmd.timeMs);
  w.u8(ADMIN_CODES[admin.kind]);
  switch (admin.kind) {
    case 'batchSplit':
      w.u32(admin.splits.length);
      for (const s of admin.splits) {
        w.bytes(s.splitKey).num(s.newRegionId).u32(s.newPeerIds.length);
        for (const id of s.newPeerIds) w.num(id);
      }
      break;
    case 'prepareMerge':
      w.num(admin.minIndex);
      encodeRegion(w, admin.target);
      break;
    case 'commitMerge':
      encodeRegion(w, admin.source);
      w.num(admin.commit).u32(admin.entries.length);
      for (const e of admin.entries) w.num(e.index).num(e.term).u8(e.type).bytes(e.data);
      break;
    case 'rollbackMerge':
      w.num(admin.commit);
      break;
  }
  return w.finish();
}

function decodeAdmin(r: BinaryReader): AdminCommand {
  const code = r.u8();
  switch (code) {
    case ADMIN_CODES.batchSplit:
      return decodeSplit(r);
    case ADMIN_CODES.prepareMerge: {
      const minIndex = count(r, 'min index');
      return { kind: 'prepareMerge', minIndex, target: decodeRegion(r) };
    }
    case ADMIN_CODES.commitMerge: {
      const source = decodeRegion(r);
      const commit = count(r, 'commit index');
      const n = r.u32();
      if (n > MAX_MERGE_ENTRIES) throw new MalformedCommandError(`commit merge of ${n} entries`);
      const entries: Entry[] = [];
      for (let i = 0; i < n; i++) {
        const index = count(r, 'entry index');
        const term = count(r, 'entry term');
        const type = r.u8();
        if (type !== EntryType.Normal && type !== EntryType.ConfChange)
          throw new MalformedCommandError(`unknown entry type ${type}`);
        entries.push({ index, term, type, data: Buffer.from(r.bytes()) });
      }
      return { kind: 'commitMerge', source, commit, entries };
    }
    case ADMIN_CODES.rollbackMerge:
      return { kind: 'rollbackMerge', commit: count(r, 'commit index') };
    default:
      throw new MalformedCommandError(`unknown admin ${code}`);
  }
}

function decodeSplit(r: BinaryReader): AdminCommand {
  const n = r.u32();
  if (n === 0 || n > MAX_SPLITS_PER_COMMAND)
    throw new MalformedCommandError(`batch split of ${n} keys`);
  const splits: SplitRequest[] = [];
  for (let i = 0; i < n; i++) {
    const splitKey = Buffer.from(r.bytes());
    const newRegionId = count(r, 'new region id');
    const np = r.u32();
    if (np === 0 || np > MAX_PEERS) throw new MalformedCommandError(`split with ${np} peers`);
    const newPeerIds: number[] = [];
    for (let j = 0; j < np; j++) newPeerIds.push(count(r, 'new peer id'));
    splits.push({ splitKey, newRegionId, newPeerIds });
  }
  return { kind: 'batchSplit', splits };
}

export function encodeCommand(cmd: RaftCommand): Buffer {
  if (cmd.admin) return encodeAdmin(cmd, cmd.admin);
  let ops = 0;
  for (const r of cmd.requests) ops += r.writes.length;
  const w = new BinaryWriter(64 + cmd.requests.length * 96 + ops * 48);
  w.u8(VERSION).num(cmd.regionId).num(cmd.epoch.confVer).num(cmd.epoch.version).num(cmd.timeMs);
  w.u32(cmd.requests.length);
  for (const r of cmd.requests) {
    if (r.session) {
      w.u8(HAS_SESSION).bytes(r.session.id).num(r.session.seq).num(r.session.lowestPending);
    } else {
      w.u8(0);
    }
    encodeWrites(w, r.writes);
  }
  return w.finish();
}

/** A decoded number that must be an exact, non-negative integer (ids, epochs, seqs, ms). */
function count(r: BinaryReader, what: string): number {
  const v = r.num();
  if (!Number.isSafeInteger(v) || v < 0) throw new MalformedCommandError(`bad ${what}: ${v}`);
  return v;
}

function decodeWrites(r: BinaryReader): WriteOp[] {
  const n = r.u32();
  const writes: WriteOp[] = [];
  for (let i = 0; i < n; i++) {
    const code = r.u8();
    const cf = DATA_TABLES[r.u8()];
    if (cf === undefined) throw new MalformedCommandError('unknown column family');
    switch (code) {
      case OP_CODES.put:
        writes.push({ op: 'put', cf, key: r.bytes(), value: r.bytes() });
        break;
      case OP_CODES.delete:
        writes.push({ op: 'delete', cf, key: r.bytes() });
        break;
      case VERSIONED_PUT: {
        const key = r.bytes();
        const ts = r.u64();
        writes.push({ op: 'put', cf, key, ts, value: r.bytes() });
        break;
      }
      case VERSIONED_DELETE: {
        const key = r.bytes();
        writes.push({ op: 'delete', cf, key, ts: r.u64() });
        break;
      }
      case OP_CODES.deleteRange:
        writes.push({ op: 'deleteRange', cf, start: r.bytes(), end: r.bytes() });
        break;
      case OP_CODES.cas: {
        const key = r.bytes();
        const value = r.bytes();
        const flag = r.u8();
        if (flag > 1) throw new MalformedCommandError('bad cas flag');
        const previous = flag === 1 ? r.bytes() : null;
        writes.push({ op: 'cas', cf, key, value, previous });
        break;
      }
      default:
        throw new MalformedCommandError(`unknown write op ${code}`);
    }
  }
  for (const w of writes) {
    if (w.op !== 'put' && w.op !== 'delete') continue;
    // Write and default rows are versions; raw and lock rows are not (key_codec.ts).
    const versioned = w.cf === 'write' || w.cf === 'default';
    if (versioned !== (w.ts !== undefined))
      throw new MalformedCommandError(
        `a ${w.op} in ${w.cf} ${versioned ? 'needs' : 'takes no'} ts`,
      );
  }
  return writes;
}

function decodeSession(r: BinaryReader): SessionStamp {
  const id = r.bytes();
  if (id.length === 0 || id.length > MAX_SESSION_ID_BYTES)
    throw new MalformedCommandError(`bad session id length ${id.length}`);
  const seq = count(r, 'session seq');
  const lowestPending = count(r, 'session lowest pending seq');
  return { id, seq, lowestPending };
}

/** Whether an entry's payload is an admin command (read from its first byte, not decoded). */
export function isAdminPayload(data: Uint8Array): boolean {
  return data.length > 0 && data[0] === VERSION_ADMIN;
}

/** Decodes and checks an entry's command; throws MalformedCommandError on any defect. */
export function decodeCommand(data: Uint8Array): RaftCommand {
  const r = new BinaryReader(data);
  const version = r.u8();
  if (version !== VERSION && version !== VERSION_1 && version !== VERSION_ADMIN)
    throw new MalformedCommandError('unknown command version');
  const regionId = count(r, 'region id');
  const epoch = { confVer: count(r, 'conf_ver'), version: count(r, 'version') };
  let cmd: RaftCommand;
  if (version === VERSION_ADMIN) {
    const timeMs = count(r, 'time');
    cmd = { regionId, epoch, timeMs, requests: [], admin: decodeAdmin(r) };
  } else if (version === VERSION_1) {
    cmd = { regionId, epoch, timeMs: 0, requests: [{ writes: decodeWrites(r) }] };
  } else {
    const timeMs = count(r, 'time');
    const n = r.u32();
    const requests: ClientRequest[] = [];
    for (let i = 0; i < n; i++) {
      const flags = r.u8();
      if (flags > HAS_SESSION) throw new MalformedCommandError('bad request flags');
      const session = flags === HAS_SESSION ? decodeSession(r) : undefined;
      requests.push(session ? { session, writes: decodeWrites(r) } : { writes: decodeWrites(r) });
    }
    cmd = { regionId, epoch, timeMs, requests };
  }
  if (!r.done()) throw new MalformedCommandError('trailing bytes in command');
  return cmd;
}
