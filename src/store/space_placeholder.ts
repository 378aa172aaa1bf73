// The last line of a store's disk protection, as TiKV's space_placeholder_file: a file of
// real, allocated bytes that the store deletes when, despite refusing writes, its disk is
// about to run out (Raft entries accepted before the refusal, checkpoints, another
// program filling the disk), so that what is already accepted can still land instead of
// the store stopping with SQLITE_FULL. It is written again once space has returned.
//
// The bytes must really be allocated: a sparse file (ftruncate) reserves nothing. Node has
// no fallocate, so the file is written with zeros, in chunks, without fsync — the
// filesystem accounts buffered (delayed-allocation) blocks as used at once, which is all
// that statfs and a later writer see.
import fs from 'node:fs';
import path from 'node:path';

export const PLACEHOLDER_FILE = 'space_placeholder_file';

/** The filesystem operations the placeholder needs (a test may fake them). */
export interface PlaceholderFs {
  /** Size of the file, or undefined if it does not exist. */
  size(file: string): number | undefined;
  /** Create (or replace) the file with bytes of allocated space; throws e.g. ENOSPC. */
  write(file: string, bytes: number): void;
  remove(file: string): void;
}

const CHUNK = 1 << 20;

export const nodePlaceholderFs: PlaceholderFs = {
  size(file) {
    try {
      return fs.statSync(file).size;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  },
  write(file, bytes) {
    const zeros = Buffer.alloc(Math.min(CHUNK, bytes));
    const fd = fs.openSync(file, 'w');
    try {
      for (let done = 0; done < bytes;) {
        const n = fs.writeSync(fd, zeros, 0, Math.min(zeros.length, bytes - done));
        done += n;
      }
    } finally {
      fs.closeSync(fd);
    }
  },
  remove(file) {
    fs.rmSync(file, { force: true });
  },
};

export class SpacePlaceholder {
  readonly file: string;
  private held: boolean;

  constructor(
    dataDir: string,
    /** Size of the file; 0 disables it. */
    readonly bytes: number,
    private readonly fsOps: PlaceholderFs = nodePlaceholderFs,
  ) {
    this.file = path.join(dataDir, PLACEHOLDER_FILE);
    const size = fsOps.size(this.file);
    // A file of another size (the reserve was changed) is replaced when space allows.
    if (size !== undefined && size !== bytes) fsOps.remove(this.file);
    this.held = bytes > 0 && size === bytes;
  }

  /** Bytes the file holds now (0 while released). */
  get heldBytes(): number {
    return this.held ? this.bytes : 0;
  }

  /** Delete the file, giving its bytes back to the filesystem. Returns whether it did. */
  release(): boolean {
    if (!this.held) return false;
    this.fsOps.remove(this.file);
    this.held = false;
    return true;
  }

  /** Write the file. Returns whether it is held now; a failed write leaves no file. */
  acquire(): boolean {
    if (this.held || this.bytes === 0) return this.held;
    try {
      this.fsOps.write(this.file, this.bytes);
      this.held = true;
    } catch {
      // ENOSPC or the like: another writer took the space first; try again later.
      try {
        this.fsOps.remove(this.file);
      } catch {
        // Nothing more to do: the next acquire replaces whatever is left.
      }
    }
    return this.held;
  }
}
