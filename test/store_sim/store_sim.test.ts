// The store simulation as a test: CI_SEEDS seeds of the real stores on a simulated clock,
// network and disk, split over two processes (the CI machine has two cores), each seed a
// short chaos phase and a heal phase (shorter than the CLI's default: more seeds of shorter
// runs beat fewer long ones here). A failing seed is reported with the command that
// replays it. Longer runs: `npm run sim:store -- --seeds N`.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { runSeed } from './run.js';

const CI_SEEDS = 300;
const CI_CHAOS_MS = 300;
const CI_HEAL_MS = 1000;
const PROCESSES = 2;

const cli = path.join(path.dirname(fileURLToPath(import.meta.url)), 'cli.js');

function runRange(start: number, count: number): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const args = [cli, '--seeds', `${count}`, '--start', `${start}`];
    args.push('--chaos-ms', `${CI_CHAOS_MS}`, '--heal-ms', `${CI_HEAL_MS}`);
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', (code) => resolve({ code: code ?? 1, out }));
  });
}

describe('store simulation', () => {
  test(`${CI_SEEDS} seeds keep every invariant, stay linearizable and recover once healed`, async () => {
    const per = Math.ceil(CI_SEEDS / PROCESSES);
    const runs = [];
    for (let i = 0; i < PROCESSES; i++) {
      runs.push(runRange(1 + i * per, Math.min(per, CI_SEEDS - i * per)));
    }
    const results = await Promise.all(runs);
    for (const r of results) console.log(r.out.trim().split('\n').slice(-1)[0]);
    const failed = results.filter((r) => r.code !== 0);
    assert.equal(failed.length, 0, failed.map((r) => r.out).join('\n'));
  });

  // Seeds of longer runs that once found a bug, replayed as they ran (default lengths):
  //   80042  a lagging replica applied PrepareMerge and RollbackMerge in one batch and
  //          refused the rollback (the fence was set only after the batch): it diverged;
  //          then a fence whose target moved on stood for ever, the two leaders being
  //          on different stores (the proof of a rollback was on the other one);
  //   80069  the same standing fence;
  //   80312  a fence whose target was itself merged into a third Region (its replica
  //          gone, a tombstone at the recorded epoch) stood for ever;
  //   80163  a split applied only on a store that then crashed (PD's map keeps it).
  // (Those four were found before membership steps joined the faults, which changed every
  // seed's schedule; they stay as seeds.) With membership steps:
  //   150    a merge's catch-up met a split in the source replica's own log: the split
  //          went off the loop, the PrepareMerge behind it was held, the store stopped;
  //   127, 167  a snapshot installed over a stale Region hosted here (the simulation
  //          delivered snapshots without the store's overlap check);
  //   757    a conf change applied on a fenced merge source dropped the fence from the
  //          persisted meta: restarted, the replica took writes its peers refused.
  // With transactions:
  //   2      pessimistic transactions lost updates (locks checked after a fresh
  //          for_update_ts while reads were at start_ts);
  //   7809   a replica of a merge source that never applied PrepareMerge refused the
  //          target's snapshot for good (now destroyed as stale); transactions stalled;
  //   40034  that destroy took a source replica that a lagging replica of the target on
  //          the same store still had to take in from its log: the store stopped. A
  //          snapshot now destroys only with the source's merged record, and waits while
  //          a target replica here is still to apply it;
  //   97454  a store made the target from a heartbeat and applied the split late; the
  //          target's snapshot destroyed the stale source and was then passed over (the
  //          split had initialized the target's log), and the CommitMerge came by append:
  //          the store stopped. Stale sources now go when the snapshot is installed;
  //   100938 the restart's check for such a source read the merged records of a replica
  //          the same restart had just destroyed as merged away: the store never started;
  //   200429 a CommitMerge reached a source replica that was copying a split off the loop
  //          and held its PrepareMerge behind it: the catch-up could not fence it, the
  //          store stopped. The CommitMerge now waits for the copy;
  //   1200240 a snapshot destroyed a stale Region whose own split was being copied off
  //          the loop: step 2 found the parent file gone, the store stopped. Such a
  //          snapshot is now refused until the split is done.
  test('the seeds that found bugs still pass', async () => {
    const seeds = [
      80042, 80069, 80163, 80312, 127, 150, 167, 757, 2, 7809, 40034, 97454, 100938, 200429,
      1200240,
    ];
    for (const seed of seeds) {
      const r = await runSeed({ seed });
      assert.ok(r.ok, r.error);
    }
  });

  test('the same seed produces the identical event trace', async () => {
    for (const seed of [5, 77]) {
      const a: string[] = [];
      const b: string[] = [];
      const ra = await runSeed({ seed, chaosMs: 300, healMs: 500, trace: (l) => a.push(l) });
      const rb = await runSeed({ seed, chaosMs: 300, healMs: 500, trace: (l) => b.push(l) });
      assert.ok(a.length > 1000, `trace of seed ${seed} is suspiciously short (${a.length})`);
      assert.deepEqual(b, a, `seed ${seed} diverged between two runs`);
      assert.equal(rb.summary, ra.summary);
    }
  });

  test('different seeds produce different runs', async () => {
    const a: string[] = [];
    const b: string[] = [];
    await runSeed({ seed: 1, chaosMs: 200, healMs: 300, trace: (l) => a.push(l) });
    await runSeed({ seed: 2, chaosMs: 200, healMs: 300, trace: (l) => b.push(l) });
    assert.notDeepEqual(a, b);
  });
});
