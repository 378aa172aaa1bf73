// Shared helpers for the Raft scenario tests: preset logs, message recording, ticking
// until a condition holds, and manual Ready handling for tests that must look inside a
// single Ready (the durability rule).
import { Cluster, TestNode } from './harness.js';
import {
  Entry,
  EntryType,
  HardState,
  Message,
  MessageType,
  NONE,
  NodeId,
  Ready,
  StateRole,
  newMessage,
} from '../../src/raft/index.js';

/** A cluster that records every message it hands to deliver() (blocked ones included). */
export class RecordingCluster extends Cluster {
  sent: Message[] = [];

  override deliver(m: Message): void {
    this.sent.push(m);
    super.deliver(m);
  }

  /** Recorded messages of a type, optionally from/to a node. */
  count(type: MessageType, from = 0, to = 0, pred: (m: Message) => boolean = () => true): number {
    return this.sent.filter(
      (m) =>
        m.type === type && (from === 0 || m.from === from) && (to === 0 || m.to === to) && pred(m),
    ).length;
  }
}

export function bytes(s: string): Uint8Array {
  return Buffer.from(s);
}

/** A payload of exactly n bytes. */
export function payload(n: number, fill = 0x61): Uint8Array {
  return new Uint8Array(n).fill(fill);
}

/**
 * Give a harness node a preset log and hard state, then start it afresh from storage.
 * Entry 1 is the bootstrap snapshot (term 1); terms[i] is the term of entry i + 2.
 * The hard state defaults to the last log term, no vote, commit 1.
 */
export function presetLog(n: TestNode, terms: number[], hs: Partial<HardState> = {}): void {
  const ents: Entry[] = terms.map((term, i) => ({
    term,
    index: i + 2,
    type: EntryType.Normal,
    data: new Uint8Array(0),
  }));
  n.storage.append(ents);
  n.storage.setHardState({
    term: hs.term ?? Math.max(1, ...terms),
    vote: hs.vote ?? NONE,
    commit: hs.commit ?? 1,
  });
  // The preset is where the scenario begins, not a restart within it: no start-up guard.
  n.start(true);
}

/** The terms of a node's log, index 1 (the bootstrap snapshot) to the last index. */
export function logTerms(n: TestNode): number[] {
  const log = n.raft.raftLog;
  const out: number[] = [];
  for (let i = 1; i <= log.lastIndex(); i++) out.push(log.term(i));
  return out;
}

/** Tick the given nodes (default: all) one round at a time until pred holds. */
export function tickUntil(
  c: Cluster,
  pred: () => boolean,
  maxRounds = 1000,
  ids: NodeId[] = [...c.nodes.keys()],
): number {
  for (let round = 1; round <= maxRounds; round++) {
    for (const id of ids) c.node(id).node.tick();
    c.stabilize();
    if (pred()) return round;
  }
  throw new Error(`condition not reached within ${maxRounds} rounds`);
}

/**
 * Tick the given nodes (default: all) until one of them leads; returns it. A deposed
 * leader outside `ids` that still believes it leads does not count.
 */
export function tickUntilLeader(
  c: Cluster,
  maxRounds = 1000,
  ids: NodeId[] = [...c.nodes.keys()],
): TestNode {
  const lead = () => ids.map((id) => c.node(id)).find((n) => n.state === StateRole.Leader);
  tickUntil(c, () => lead() !== undefined, maxRounds, ids);
  return lead()!;
}

/** The ids of all current leaders. */
export function leaders(c: Cluster): NodeId[] {
  return [...c.nodes.values()].filter((n) => n.state === StateRole.Leader).map((n) => n.id);
}

/**
 * Persist a Ready into the node's storage and apply it, exactly as the harness does, but
 * without sending anything: the caller decides what happens to the messages.
 */
export function persist(n: TestNode, rd: Ready): void {
  n.persist(rd);
}

/** Persist and advance a Ready; returns it for inspection. */
export function readyAndAdvance(n: TestNode): Ready {
  const rd = n.node.ready();
  persist(n, rd);
  n.node.advance(rd);
  return rd;
}

/** A message from a peer, with the zero values filled in. */
export function msg(fields: Partial<Message> & Pick<Message, 'type' | 'from' | 'to'>): Message {
  return newMessage(fields);
}

/** Entries of a given term at consecutive indexes, starting at `from`. */
export function ents(from: number, terms: number[]): Entry[] {
  return terms.map((term, i) => ({
    term,
    index: from + i,
    type: EntryType.Normal,
    data: new Uint8Array(0),
  }));
}
