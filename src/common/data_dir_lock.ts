// An exclusive lock on a data directory for the lifetime of a process: a second PD, store
// or playground on the same directory refuses to start with one clear line instead of
// two processes writing one Raft log (TiKV locks `<data-dir>/LOCK`, etcd its WAL files).
//
// Why a pid file and not flock(2): Node has no flock or fcntl lock without a native addon,
// and the project adds none. The lock is the file `<dir>/LOCK`, created atomically and
// exclusively, holding who owns it: {pid, host, start}. It is written in full to a
// private temp file first and then hard-linked to LOCK — link(2) fails with EEXIST like
// O_EXCL does, and a reader never sees a half-written LOCK.
//
// Unlike a kernel lock, a pid file survives a crash (kill -9), so a LOCK whose owner is
// gone is STALE and is taken over: its pid is dead (kill(pid, 0) says ESRCH), or is our
// own pid from an earlier life (pid 1 in a container on every start), or — on Linux,
// where /proc tells a process's start time — the pid now belongs to a process that
// started later than the owner did (pid reuse). A LOCK from another host cannot be
// checked and is never taken over (a shared network file system): the error says so.
//
// Taking over: rename the stale LOCK away (atomic), check that what was moved is the
// stale file just judged (same content: owners differ in pid or start time), delete it
// and try again. When two processes take over the same stale LOCK at once, the slower
// one moves the faster one's fresh LOCK, sees other content and links it straight back,
// then finds it held. Only a third
// process creating LOCK in that instant could slip in; that needs three starts on one
// crashed data dir within microseconds.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const LOCK_FILE = 'LOCK';

interface Owner {
  pid: number;
  host: string;
  /** Process start time from /proc (Linux clock ticks since boot); null elsewhere. */
  start: string | null;
}

/** The lock is held by a live process (or cannot be proven free). */
export class DataDirLockedError extends Error {
  constructor(
    readonly dir: string,
    readonly owner: Owner | undefined,
    why: string,
  ) {
    super(`data dir ${dir} is in use: ${why}`);
    this.name = 'DataDirLockedError';
  }
}

/** Directories this process holds, so a second lock in the same process is refused too. */
const heldHere = new Set<string>();

/** Start time of a process (field 22 of /proc/<pid>/stat), or null off Linux or if gone. */
function processStart(pid: number): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: count after it.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to another user.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function parseOwner(text: string): Owner | undefined {
  try {
    const o = JSON.parse(text) as Partial<Owner>;
    if (typeof o.pid !== 'number' || !Number.isInteger(o.pid) || o.pid <= 0) return undefined;
    if (typeof o.host !== 'string') return undefined;
    return { pid: o.pid, host: o.host, start: typeof o.start === 'string' ? o.start : null };
  } catch {
    return undefined;
  }
}

/** Why `owner` still holds the lock, or undefined when its LOCK is stale. */
function holdsIt(owner: Owner, dir: string): string | undefined {
  const who = `process ${owner.pid}`;
  if (owner.host !== os.hostname())
    return `locked by ${who} on host ${owner.host}; if it no longer runs, remove ${path.join(dir, LOCK_FILE)}`;
  if (owner.pid === process.pid) return heldHere.has(dir) ? 'locked by this process' : undefined;
  if (!isAlive(owner.pid)) return undefined;
  const start = processStart(owner.pid);
  if (owner.start !== null && start !== null && start !== owner.start) return undefined;
  return `locked by ${who} (lock file ${path.join(dir, LOCK_FILE)})`;
}

export class DataDirLock {
  private released = false;
  private readonly onExit = () => this.release();

  private constructor(
    readonly dir: string,
    readonly file: string,
    /** What LOCK holds while it is ours: release compares it, inodes get reused. */
    private readonly content: string,
  ) {
    // Covers process.exit() and normal exits; after kill -9 the stale rule applies.
    process.on('exit', this.onExit);
  }

  /** Locks `dir` (created if missing) or throws DataDirLockedError. */
  static acquire(dir: string): DataDirLock {
    fs.mkdirSync(dir, { recursive: true });
    const real = fs.realpathSync(dir);
    const file = path.join(real, LOCK_FILE);
    const me: Owner = { pid: process.pid, host: os.hostname(), start: processStart(process.pid) };
    if (heldHere.has(real)) throw new DataDirLockedError(dir, me, 'locked by this process');
    const tmp = path.join(real, `${LOCK_FILE}.${process.pid}.${Date.now()}.tmp`);
    const content = JSON.stringify(me) + '\n';
    fs.writeFileSync(tmp, content, { flag: 'wx' });
    try {
      for (let attempt = 0; attempt < 5; attempt++) {
        try {
          fs.linkSync(tmp, file);
          const lock = new DataDirLock(real, file, content);
          heldHere.add(real);
          return lock;
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        }
        let seen: string;
        try {
          seen = fs.readFileSync(file, 'utf8');
        } catch {
          continue; // gone meanwhile: try again
        }
        const owner = parseOwner(seen);
        if (!owner) {
          throw new DataDirLockedError(
            dir,
            undefined,
            `${file} is not a lock this version wrote; if no nyx process uses ${dir}, remove it`,
          );
        }
        const why = holdsIt(owner, real);
        if (why !== undefined) throw new DataDirLockedError(dir, owner, why);
        takeOverStale(file, seen);
      }
      throw new DataDirLockedError(
        dir,
        undefined,
        `${file} keeps changing; another process is starting on it`,
      );
    } finally {
      fs.rmSync(tmp, { force: true });
    }
  }

  /** Removes LOCK if it is still ours. Safe to call twice. */
  release(): void {
    if (this.released) return;
    this.released = true;
    process.off('exit', this.onExit);
    heldHere.delete(this.dir);
    try {
      if (fs.readFileSync(this.file, 'utf8') === this.content) fs.unlinkSync(this.file);
    } catch {
      // Already gone: nothing to release.
    }
  }
}

/** Moves the stale LOCK that reads `stale` out of the way (see the header on races). */
function takeOverStale(file: string, stale: string): void {
  const aside = `${file}.stale.${process.pid}.${Date.now()}`;
  try {
    fs.renameSync(file, aside);
  } catch {
    return; // someone else moved it: look again
  }
  if (fs.readFileSync(aside, 'utf8') !== stale) {
    // We moved a fresh lock another process just made: put it back where it was.
    try {
      fs.linkSync(aside, file);
    } catch {
      // A third process holds LOCK now; the next look finds that one.
    }
  }
  fs.rmSync(aside, { force: true });
}
