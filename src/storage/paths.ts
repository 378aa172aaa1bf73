// Where a store keeps its files (see DESIGN.md "On disk"), and the small file-system
// helpers that make renames and creations durable.
import fs from 'node:fs';
import path from 'node:path';

export function raftDir(dataDir: string): string {
  return path.join(dataDir, 'raft');
}

export function raftDbPath(dataDir: string): string {
  return path.join(raftDir(dataDir), 'raft.db');
}

export function regionsDir(dataDir: string): string {
  return path.join(dataDir, 'regions');
}

export function regionDbPath(dataDir: string, regionId: number): string {
  return path.join(regionsDir(dataDir), `${regionId}.sqlite`);
}

export function snapDir(dataDir: string): string {
  return path.join(dataDir, 'snap');
}

/** The region ids that have a database file under regions/. */
export function listRegionDbIds(dataDir: string): number[] {
  let names: string[];
  try {
    names = fs.readdirSync(regionsDir(dataDir));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const ids: number[] = [];
  for (const n of names) {
    const m = /^(\d+)\.sqlite$/.exec(n);
    if (m) ids.push(Number(m[1]));
  }
  return ids.sort((a, b) => a - b);
}

/**
 * Create a directory (and parents) and fsync its parent, so that the new directory entry
 * itself survives a power loss, not only the files created inside it later.
 */
export function ensureDir(dir: string): void {
  if (fs.existsSync(dir)) return;
  fs.mkdirSync(dir, { recursive: true });
  fsyncDir(path.dirname(dir));
}

/** fsync a directory: makes creations, renames and unlinks inside it durable. */
export function fsyncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

export function fsyncFile(file: string): void {
  const fd = fs.openSync(file, 'r+');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Remove a file if present; returns whether it existed. */
export function unlinkIfExists(file: string): boolean {
  try {
    fs.unlinkSync(file);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}

/** A SQLite database is its main file plus, in WAL mode, the -wal and -shm side files. */
export function sqliteFiles(dbPath: string): string[] {
  return [dbPath, `${dbPath}-wal`, `${dbPath}-shm`];
}

/** Bytes a SQLite database takes with its WAL (a copy of it takes at most that). */
export function sqliteBytes(dbPath: string): number {
  let bytes = 0;
  for (const f of sqliteFiles(dbPath).slice(0, 2)) {
    try {
      bytes += fs.statSync(f).size;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
  return bytes;
}
