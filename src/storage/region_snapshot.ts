// Region snapshots as SQLite files.
//
// Export is `VACUUM INTO <snap>/...`: one statement that reads the source inside a
// single read transaction and writes a compact, self-contained database: every table
// and the local state (Region meta, apply state), consistent with each other. We chose
// a file over a long-lived read transaction streamed row by row because (1) the file
// is a stable thing to send, resend after a failure and checksum, while a read
// transaction would have to stay open (pinning the WAL) for as long as a slow network
// transfer takes; (2) the receiver gets a ready database it can swap in by one atomic
// rename, with no per-row work and no long write transaction; (3) it can be inspected
// with `sqlite3`. Streaming is then just reading the file in chunks.
//
// The cost is that VACUUM INTO runs synchronously, for a time proportional to the
// Region's size (Regions are split at a bounded size, so this stays bounded).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { SnapshotInvalidError } from './errors.js';
import { ensureDir, fsyncDir, fsyncFile, unlinkIfExists } from './paths.js';
import { LOCAL_APPLY, LOCAL_MERGED, LOCAL_REGION, TABLES } from './region_schema.js';
import {
  ApplyState,
  MergedRecord,
  RegionLocalState,
  decodeApplyState,
  decodeMergedRecords,
  decodeRegionState,
} from './region_state.js';
import { SqliteDatabase, SyncMode, openDatabase } from './sqlite.js';

export interface SnapshotFileInfo {
  path: string;
  regionId: number;
  applyState: ApplyState;
  size: number;
  /** sha256 of the file, hex. */
  checksum: string;
}

export const DEFAULT_CHUNK_SIZE = 1 << 20;

export function snapshotFileName(regionId: number, a: ApplyState): string {
  return `region-${regionId}-${a.appliedIndex}-${a.appliedTerm}.sqlite`;
}

/** VACUUM INTO a temporary name, fsync, then rename: a snapshot file is whole or absent. */
export function writeSnapshotFile(
  db: SqliteDatabase,
  regionId: number,
  dir: string,
): SnapshotFileInfo {
  ensureDir(dir);
  const tmp = path.join(dir, `region-${regionId}-${process.pid}-${Date.now()}.tmp`);
  unlinkIfExists(tmp);
  try {
    db.prepare('VACUUM INTO ?').run(tmp);
    fsyncFile(tmp);
    const { apply } = readSnapshotFileState(tmp, regionId);
    const final = path.join(dir, snapshotFileName(regionId, apply));
    fs.renameSync(tmp, final);
    fsyncDir(dir);
    return {
      path: final,
      regionId,
      applyState: apply,
      size: fs.statSync(final).size,
      checksum: sha256File(final),
    };
  } catch (e) {
    unlinkIfExists(tmp);
    throw e;
  }
}

/**
 * Open a snapshot file read-only and check it is a whole Region database of regionId.
 * With `verify`, also run SQLite's quick_check (linear in the file's size): for a file
 * received from a peer, before it is installed.
 */
export function readSnapshotFileState(
  file: string,
  regionId: number,
  opts: { verify?: boolean } = {},
): { apply: ApplyState; region: RegionLocalState | null; merged: MergedRecord[] } {
  let db: SqliteDatabase;
  try {
    db = openDatabase(file, { sync: SyncMode.Normal, readonly: true });
  } catch (e) {
    throw new SnapshotInvalidError(`cannot open snapshot ${file}: ${(e as Error).message}`);
  }
  try {
    if (opts.verify) {
      const problems = db.prepare('PRAGMA quick_check').pluck(true).all() as string[];
      if (problems.length !== 1 || problems[0] !== 'ok')
        throw new SnapshotInvalidError(`snapshot ${file} fails quick_check: ${problems[0]}`);
    }
    const names = new Set(
      db
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table'")
        .pluck(true)
        .all() as string[],
    );
    for (const t of [...TABLES, 'local_state'])
      if (!names.has(t)) throw new SnapshotInvalidError(`snapshot ${file} lacks table ${t}`);
    const get = db.prepare('SELECT value FROM local_state WHERE name = ?').pluck(true);
    const a = get.get(LOCAL_APPLY) as string | undefined;
    if (a === undefined) throw new SnapshotInvalidError(`snapshot ${file} has no apply state`);
    const r = get.get(LOCAL_REGION) as string | undefined;
    const region = r === undefined ? null : decodeRegionState(r);
    if (region && region.region.id !== regionId)
      throw new SnapshotInvalidError(
        `snapshot ${file} is of region ${region.region.id}, not ${regionId}`,
      );
    const m = get.get(LOCAL_MERGED) as string | undefined;
    const merged = m === undefined ? [] : decodeMergedRecords(m, regionId);
    return { apply: decodeApplyState(a), region, merged };
  } finally {
    db.close();
  }
}

/** The file in chunks of at most chunkSize bytes, read synchronously as they are pulled. */
export function* readSnapshotChunks(
  file: string,
  chunkSize = DEFAULT_CHUNK_SIZE,
): Generator<Buffer, void, undefined> {
  const fd = fs.openSync(file, 'r');
  try {
    for (let pos = 0; ;) {
      const buf = Buffer.allocUnsafe(chunkSize);
      const n = fs.readSync(fd, buf, 0, chunkSize, pos);
      if (n === 0) return;
      pos += n;
      yield n === chunkSize ? buf : buf.subarray(0, n);
    }
  } finally {
    fs.closeSync(fd);
  }
}

export function sha256File(file: string): string {
  const h = crypto.createHash('sha256');
  for (const c of readSnapshotChunks(file)) h.update(c);
  return h.digest('hex');
}

/**
 * Receives a snapshot file chunk by chunk into <dir>/<name>.part; finish() checks size
 * and checksum, fsyncs and renames it to <dir>/<name>. abort() removes the part file.
 */
export class SnapshotFileWriter {
  private fd: number | undefined;
  private readonly hash = crypto.createHash('sha256');
  private written = 0;
  readonly path: string;
  private readonly partPath: string;

  constructor(dir: string, name: string) {
    ensureDir(dir);
    this.path = path.join(dir, name);
    this.partPath = `${this.path}.part`;
    this.fd = fs.openSync(this.partPath, 'w');
  }

  write(chunk: Uint8Array): void {
    if (this.fd === undefined) throw new SnapshotInvalidError('snapshot writer is finished');
    let off = 0;
    while (off < chunk.length) off += fs.writeSync(this.fd, chunk, off, chunk.length - off);
    this.hash.update(chunk);
    this.written += chunk.length;
  }

  finish(expect: { size: number; checksum: string }): string {
    if (this.fd === undefined) throw new SnapshotInvalidError('snapshot writer is finished');
    const checksum = this.hash.digest('hex');
    try {
      if (this.written !== expect.size || checksum !== expect.checksum)
        throw new SnapshotInvalidError(
          `snapshot ${this.path}: got ${this.written} bytes sha256 ${checksum}, want ${expect.size} bytes sha256 ${expect.checksum}`,
        );
      fs.fsyncSync(this.fd);
    } catch (e) {
      this.abort();
      throw e;
    }
    fs.closeSync(this.fd);
    this.fd = undefined;
    fs.renameSync(this.partPath, this.path);
    fsyncDir(path.dirname(this.path));
    return this.path;
  }

  abort(): void {
    if (this.fd !== undefined) {
      fs.closeSync(this.fd);
      this.fd = undefined;
    }
    unlinkIfExists(this.partPath);
  }
}

/**
 * What goes into a Raft Snapshot's data: not the Region's data itself, but which file
 * holds it, so the store can fetch it over the snapshot stream (as TiKV sends a
 * snapshot's files beside the Raft message).
 */
export interface SnapshotDescriptor {
  regionId: number;
  name: string;
  size: number;
  checksum: string;
  applyState: ApplyState;
}

export function describeSnapshot(info: SnapshotFileInfo): SnapshotDescriptor {
  return {
    regionId: info.regionId,
    name: path.basename(info.path),
    size: info.size,
    checksum: info.checksum,
    applyState: { ...info.applyState },
  };
}

export function encodeSnapshotDescriptor(d: SnapshotDescriptor): Uint8Array {
  return Buffer.from(JSON.stringify(d), 'utf8');
}

/** A file name we may join to snap/: no separators, no dot names, nothing odd. */
const SAFE_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;

const isCount = (n: unknown): n is number =>
  typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;

/**
 * The descriptor in a snapshot's data. It arrives from a peer, so every field is checked
 * (issue 7, finding 3): a name that is safe to use as a file name in snap/, counts that
 * are exact non-negative integers, a sha256. Throws SnapshotInvalidError otherwise.
 */
export function decodeSnapshotDescriptor(data: Uint8Array): SnapshotDescriptor {
  let d: Partial<SnapshotDescriptor>;
  try {
    d = JSON.parse(Buffer.from(data).toString('utf8')) as Partial<SnapshotDescriptor>;
  } catch (e) {
    throw new SnapshotInvalidError(`bad snapshot descriptor: ${(e as Error).message}`);
  }
  const bad = (what: string) => new SnapshotInvalidError(`bad snapshot descriptor: ${what}`);
  if (typeof d !== 'object' || d === null) throw bad('not an object');
  if (typeof d.name !== 'string' || !SAFE_NAME.test(d.name)) throw bad('name');
  if (!isCount(d.regionId) || d.regionId === 0) throw bad('region id');
  if (!isCount(d.size)) throw bad('size');
  if (typeof d.checksum !== 'string' || !SHA256_HEX.test(d.checksum)) throw bad('checksum');
  const a = d.applyState;
  if (typeof a !== 'object' || a === null || !isCount(a.appliedIndex) || !isCount(a.appliedTerm))
    throw bad('apply state');
  return {
    regionId: d.regionId,
    name: d.name,
    size: d.size,
    checksum: d.checksum,
    applyState: { appliedIndex: a.appliedIndex, appliedTerm: a.appliedTerm },
  };
}
