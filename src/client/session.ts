// The client half of exactly-once writes (Raft thesis §6.3). A RawClient is one session:
// a random id, and a number for every write request. A retry of a request — after a lost
// connection, a timeout, a leader change — carries the same number, so the Region applies
// it at most once and answers the retry from its record (src/store/session_table.ts).
// Every request also carries the lowest number still waiting for an answer; the Region
// forgets the records below it.
//
// What stays uncertain: a write whose every answer was lost until the call's deadline.
// Then the SDK cannot know whether it happened and says so with UndeterminedError,
// instead of a connection or timeout error a caller might take for "not applied".
import { randomBytes } from 'node:crypto';
import { NyxError, UndeterminedError } from './errors.js';

export class ClientSession {
  private nextSeq = 1;
  private readonly pending = new Set<number>();
  /** The lowest number still pending (or nextSeq when none is). */
  private low = 1;

  constructor(readonly id: Buffer = randomBytes(16)) {}

  /** A number for a new request; its retries reuse it. */
  open(): number {
    const seq = this.nextSeq++;
    this.pending.add(seq);
    return seq;
  }

  /** The request got its final answer (or the caller gave up on it): it is never sent again. */
  close(seq: number): void {
    this.pending.delete(seq);
    while (this.low < this.nextSeq && !this.pending.has(this.low)) this.low++;
  }

  lowestPending(): number {
    return this.low;
  }
}

/** The session fields of a write request's Context. */
export interface SessionFields {
  sessionId: Buffer;
  seq: number;
  lowestPendingSeq: number;
}

/**
 * One write call of the SDK: the requests it sends (one number each; a request regrouped
 * after a split keeps its number) and whether any attempt ended without a definite
 * answer (sent, then the connection broke or the store timed it out).
 */
export class WriteCall {
  private readonly seqs: number[] = [];
  ambiguous = false;

  constructor(private readonly session: ClientSession) {}

  /** A number for one request of this call. */
  request(): number {
    const seq = this.session.open();
    this.seqs.push(seq);
    return seq;
  }

  fields(seq: number): SessionFields {
    return {
      sessionId: this.session.id,
      seq,
      lowestPendingSeq: this.session.lowestPending(),
    };
  }

  /** Run the call; a failure after an ambiguous attempt becomes UndeterminedError. */
  async run<T>(f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (e) {
      if (this.ambiguous && e instanceof NyxError && e.retryable) {
        throw new UndeterminedError(`the write may or may not have been applied: ${e.message}`, {
          cause: e,
        });
      }
      throw e;
    } finally {
      for (const s of this.seqs) this.session.close(s);
    }
  }
}

/** A request of a write call: which call, and its number. */
export interface WriteTag {
  call: WriteCall;
  seq: number;
}
