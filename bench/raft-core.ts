// In-process benchmark of the Raft core: 3 nodes, messages handed over in memory, no
// I/O. It measures how many 100-byte entries per second the core itself can commit, so
// that we know it is never the store's bottleneck. Modes:
//   single:    one proposal, then drive the group until it is applied (latency-bound);
//   pipelined: one proposal per loop turn, many in flight;
//   batched:   one proposal message carrying N entries per loop turn.
// Usage: node dist/bench/raft-core.js [--seconds S] [--runs R] [--batch N] [--json]
import { parseArgs } from 'node:util';
import {
  EntryType,
  MemoryStorage,
  Message,
  RawNode,
  SeededRand,
  StateRole,
  emptyConfState,
} from '../src/raft/index.js';

interface BenchNode {
  id: number;
  storage: MemoryStorage;
  node: RawNode;
  appliedCount: number;
  appliedIndex: number;
}

const ENTRY = new Uint8Array(100).fill(0x61);

function makeGroup(): BenchNode[] {
  const ids = [1, 2, 3];
  return ids.map((id) => {
    const storage = new MemoryStorage();
    storage.applySnapshot({
      data: new Uint8Array(0),
      metadata: { index: 1, term: 1, confState: { ...emptyConfState(), voters: ids } },
    });
    const node = new RawNode({ id, storage, rand: new SeededRand(id), maxInflightMsgs: 4096 });
    return { id, storage, node, appliedCount: 0, appliedIndex: 1 };
  });
}

/** One pass over every node: persist, deliver, apply, advance. Returns whether anything moved. */
function drive(group: BenchNode[], inbox: Message[]): boolean {
  let moved = false;
  for (const n of group) {
    if (!n.node.hasReady()) continue;
    moved = true;
    const rd = n.node.ready();
    for (const m of rd.messages) inbox.push(m);
    if (rd.entries.length > 0) n.storage.append(rd.entries);
    if (rd.hardState) n.storage.setHardState(rd.hardState);
    for (const m of rd.persistedMessages) inbox.push(m);
    for (const e of rd.committedEntries) {
      if (e.type === EntryType.Normal && e.data.length > 0) n.appliedCount++;
      n.appliedIndex = e.index;
    }
    n.node.advance(rd);
    // Keep memory flat: compact what every node applied long ago.
    if (n.appliedIndex - n.storage.firstIndex() > 50_000) {
      const at = n.appliedIndex - 10_000;
      n.storage.createSnapshot(at, undefined, new Uint8Array(0));
      n.storage.compact(at);
    }
  }
  if (inbox.length > 0) {
    moved = true;
    const msgs = inbox.splice(0, inbox.length);
    for (const m of msgs) group[m.to - 1]!.node.step(m);
  }
  return moved;
}

function settle(group: BenchNode[], inbox: Message[]): void {
  while (drive(group, inbox)) {
    // until quiet
  }
}

function electLeader(group: BenchNode[], inbox: Message[]): BenchNode {
  group[0]!.node.campaign();
  settle(group, inbox);
  const leader = group.find((n) => n.node.raft.state === StateRole.Leader);
  if (!leader) throw new Error('no leader elected');
  return leader;
}

type Mode = 'single' | 'pipelined' | 'batched';

function runOnce(
  mode: Mode,
  seconds: number,
  batch: number,
): { entriesPerSec: number; entries: number } {
  const group = makeGroup();
  const inbox: Message[] = [];
  const leader = electLeader(group, inbox);
  const base = leader.appliedCount;
  const batchData = Array.from({ length: batch }, () => ENTRY);
  const deadline = performance.now() + seconds * 1000;
  let turns = 0;
  while (true) {
    if ((++turns & 63) === 0 && performance.now() >= deadline) break;
    switch (mode) {
      case 'single': {
        const want = leader.appliedCount + 1;
        leader.node.propose(ENTRY);
        while (leader.appliedCount < want) drive(group, inbox);
        break;
      }
      case 'pipelined':
        leader.node.propose(ENTRY);
        drive(group, inbox);
        break;
      case 'batched':
        leader.node.proposeEntries(batchData);
        drive(group, inbox);
        break;
    }
  }
  const elapsed = seconds;
  settle(group, inbox);
  const entries = leader.appliedCount - base;
  return { entriesPerSec: entries / elapsed, entries };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '2' },
    runs: { type: 'string', default: '3' },
    batch: { type: 'string', default: '64' },
    json: { type: 'boolean', default: false },
  },
});
const seconds = Number(values.seconds);
const runs = Number(values.runs);
const batch = Number(values.batch);
const results: { mode: string; median: number; runs: number[] }[] = [];
for (const mode of ['single', 'pipelined', 'batched'] as Mode[]) {
  const rates: number[] = [];
  for (let i = 0; i < runs; i++) rates.push(runOnce(mode, seconds, batch).entriesPerSec);
  results.push({
    mode: mode === 'batched' ? `batched (${batch}/msg)` : mode,
    median: median(rates),
    runs: rates,
  });
}
if (values.json) {
  console.log(JSON.stringify({ node: process.version, seconds, runs, results }, null, 2));
} else {
  console.log(
    `Raft core, 3 nodes in memory, 100-byte entries, ${runs} runs of ${seconds}s, node ${process.version}`,
  );
  for (const r of results) {
    console.log(
      `${r.mode.padEnd(20)} median ${Math.round(r.median).toLocaleString('en-US').padStart(10)} entries/s   runs: ${r.runs
        .map((x) => Math.round(x).toLocaleString('en-US'))
        .join(', ')}`,
    );
  }
}
