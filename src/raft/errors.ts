// Typed errors of the Raft core. Callers branch on the class, never on message text.

export class RaftError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** The proposal was not appended: no leader known, forwarding disabled, a transfer in
 * progress, a pending conf change, or this node was removed. Retry elsewhere or later. */
export class ProposalDroppedError extends RaftError {
  constructor(reason: string) {
    super(`proposal dropped: ${reason}`);
  }
}

/** The leader holds too many uncommitted bytes (thesis §10.2.1: bound the leader's
 * memory when followers cannot keep up). Back off and retry. */
export class UncommittedSizeExceededError extends RaftError {
  constructor(
    readonly uncommittedBytes: number,
    readonly limit: number,
  ) {
    super(`proposal dropped: ${uncommittedBytes} uncommitted bytes exceed the limit of ${limit}`);
  }
}

/** The requested index was compacted away; the caller needs a snapshot. */
export class CompactedError extends RaftError {
  constructor() {
    super('requested index is unavailable due to compaction');
  }
}

/** The requested entries are not in storage (yet). */
export class UnavailableError extends RaftError {
  constructor() {
    super('requested entry at index is unavailable');
  }
}

/** The snapshot is older than what storage already has. */
export class SnapshotOutOfDateError extends RaftError {
  constructor() {
    super('requested index is older than the existing snapshot');
  }
}

/** The snapshot is being built; ask again later. */
export class SnapshotTemporarilyUnavailableError extends RaftError {
  constructor() {
    super('snapshot is temporarily unavailable');
  }
}

/** An invariant of the algorithm does not hold: a bug, never a client's fault. */
export class InvariantError extends RaftError {}

export function invariant(cond: unknown, message: string | (() => string)): asserts cond {
  if (!cond) throw new InvariantError(typeof message === 'string' ? message : message());
}
