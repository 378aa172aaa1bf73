// Group-commit throughput of the Raft log engine: each write is one RaftLogWriteBatch
// carrying M new entries for each of N Regions plus their hard states, committed in one
// SQLite transaction, i.e. one fsync of the WAL (synchronous=FULL). The table shows how
// batching many Regions per store-loop turn amortises that fsync.
//
// Logs are compacted as they grow (keep the last 1000 entries per Region), as a store
// would. To check the one-fsync-per-write claim on Linux:
//   strace -f -c -e trace=fsync,fdatasync node dist/bench/storage-write.js --only 10x10
// and compare the fsync count with the printed number of writes.
// Usage: node dist/bench/storage-write.js [--seconds S] [--size BYTES] [--sync full|normal]
//        [--only NxM] [--json]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import Table from 'cli-table3';
import { Entry, EntryType } from '../src/raft/index.js';
import { RaftLogEngine, RaftLogWriteBatch, SyncMode } from '../src/storage/index.js';

interface Result {
  regions: number;
  entriesPerRegion: number;
  writes: number;
  writesPerSec: number;
  entriesPerSec: number;
  mbPerSec: number;
  p50ms: number;
  p99ms: number;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;
}

function run(
  regions: number,
  perRegion: number,
  seconds: number,
  size: number,
  sync: SyncMode,
): Result {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nyx-bench-storage-'));
  const engine = RaftLogEngine.open(dir, { sync });
  try {
    const payload = Buffer.alloc(size, 0x61);
    const next = new Array<number>(regions + 1).fill(1);
    const lat: number[] = [];
    let entries = 0;
    const start = performance.now();
    const deadline = start + seconds * 1000;
    while (performance.now() < deadline) {
      const b = new RaftLogWriteBatch();
      for (let r = 1; r <= regions; r++) {
        const ents: Entry[] = [];
        for (let k = 0; k < perRegion; k++)
          ents.push({ index: next[r]!++, term: 1, type: EntryType.Normal, data: payload });
        b.append(r, ents);
        b.setHardState(r, { term: 1, vote: 1, commit: next[r]! - 1 });
        if (next[r]! % 2000 < perRegion) b.compact(r, next[r]! - 1000);
      }
      const t0 = performance.now();
      engine.write(b);
      lat.push(performance.now() - t0);
      entries += regions * perRegion;
    }
    // Wall time, so building the batch (the store's share of the work) counts too.
    const elapsed = (performance.now() - start) / 1000;
    lat.sort((a, b) => a - b);
    return {
      regions,
      entriesPerRegion: perRegion,
      writes: lat.length,
      writesPerSec: lat.length / elapsed,
      entriesPerSec: entries / elapsed,
      mbPerSec: engine.stats.bytesWritten / elapsed / (1 << 20),
      p50ms: percentile(lat, 0.5),
      p99ms: percentile(lat, 0.99),
    };
  } finally {
    engine.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '2' },
    size: { type: 'string', default: '100' },
    sync: { type: 'string', default: 'full' },
    only: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});
const seconds = Number(values.seconds);
const size = Number(values.size);
const sync = values.sync === 'normal' ? SyncMode.Normal : SyncMode.Full;
let shapes: [number, number][] = [
  [1, 1],
  [1, 16],
  [10, 1],
  [10, 16],
  [100, 1],
  [100, 16],
  [1000, 1],
];
if (values.only) {
  const [n, m] = values.only.split('x').map(Number);
  shapes = [[n!, m!]];
}
const results = shapes.map(([n, m]) => run(n, m, seconds, size, sync));
if (values.json) {
  console.log(JSON.stringify({ node: process.version, seconds, size, sync, results }, null, 2));
} else {
  console.log(
    `Raft log engine group commit: ${size}-byte entries, ${seconds}s per row, synchronous=${sync}, node ${process.version}`,
  );
  const fmt = (x: number, d = 0) =>
    x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
  const table = new Table({
    head: ['regions x entries', 'writes', 'writes/s', 'entries/s', 'MiB/s', 'p50 ms', 'p99 ms'],
  });
  for (const r of results)
    table.push([
      `${r.regions} x ${r.entriesPerRegion}`,
      fmt(r.writes),
      fmt(r.writesPerSec),
      fmt(r.entriesPerSec),
      fmt(r.mbPerSec, 1),
      fmt(r.p50ms, 2),
      fmt(r.p99ms, 2),
    ]);
  console.log(table.toString());
}
