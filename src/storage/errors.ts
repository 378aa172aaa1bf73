// Typed errors of the storage engines. The Raft core's own typed errors (CompactedError,
// UnavailableError, ...) are thrown as they are where the Storage contract asks for them.

export class StorageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** What is on disk contradicts itself (a hole in a log, an unreadable state row). */
export class StorageCorruptionError extends StorageError {}

/** The handle was used after its Region was destroyed or its engine closed. */
export class StorageClosedError extends StorageError {}

/** A snapshot file is unusable: wrong region, missing state, bad checksum. */
export class SnapshotInvalidError extends StorageError {}
