// The replicated state machine of a simulated node. Instead of real data it keeps a
// running digest of every entry it applied (index, term, type, payload), so two nodes
// whose digests agree at an index applied exactly the same history up to it. Snapshots
// carry this state serialized, which lets the checker verify that a state machine
// restored from a snapshot is the one the cluster actually committed.
import { Entry, EntryType, Snapshot } from '../../src/raft/index.js';

export class StateMachine {
  constructor(
    /** Index of the last applied entry (or of the snapshot it was restored from). */
    public index = 0,
    public digest = 0,
    /** Number of non-empty normal entries applied (client writes). */
    public writes = 0,
  ) {}

  static fromSnapshot(s: Snapshot): StateMachine {
    if (s.metadata.index === 0) return new StateMachine();
    const o = JSON.parse(Buffer.from(s.data).toString()) as {
      index: number;
      digest: number;
      writes: number;
    };
    return new StateMachine(o.index, o.digest, o.writes);
  }

  encode(): Uint8Array {
    return Buffer.from(
      JSON.stringify({ index: this.index, digest: this.digest, writes: this.writes }),
    );
  }

  apply(e: Entry, node: number): void {
    if (e.index !== this.index + 1)
      throw new Error(
        `node ${node}: state machine at ${this.index} asked to apply entry ${e.index}`,
      );
    let h = mix(this.digest, e.index);
    h = mix(h, e.term);
    h = mix(h, e.type);
    for (let i = 0; i < e.data.length; i++) h = mix(h, e.data[i]!);
    this.digest = h;
    this.index = e.index;
    if (e.type === EntryType.Normal && e.data.length > 0) this.writes++;
  }
}

/** One round of a 32-bit multiplicative hash (FNV-1a style, over whole numbers). */
function mix(h: number, x: number): number {
  h ^= x & 0xffffffff;
  h = Math.imul(h, 0x01000193);
  h ^= Math.floor(x / 0x100000000);
  return Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0;
}
