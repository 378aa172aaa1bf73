// The chaos suite's CI subset (about 2.5 minutes): short runs of each nemesis on a real
// cluster, each checked like a long run — linearizable history, no acknowledged write
// lost, availability back within the bound after every heal, no process crashed unless
// killed. A failure prints the directory it kept and the command that re-runs it.
// Longer runs: `npm run chaos -- --nemesis kill,pause,partition --duration 10m --seed S`.
// NYX_CHAOS_SEED picks another schedule (the default keeps CI's runs the same).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { storeAcceptsFailpointFlag } from './chaos_cluster.js';
import { rerunCommand, type ChaosOptions, type NemesisName } from './options.js';
import { runChaos } from './run.js';

const SEED = Number(process.env.NYX_CHAOS_SEED ?? 1);

async function chaos(nemesis: NemesisName, durationMs: number): Promise<void> {
  const opts: ChaosOptions = { nemeses: [nemesis], durationMs, seed: SEED, stores: 3, keep: false };
  const lines: string[] = [];
  const r = await runChaos(opts, (line) => lines.push(line));
  assert.ok(
    r.ok,
    [
      `chaos run failed: ${rerunCommand(opts)}`,
      `kept: ${r.keptDir}`,
      ...lines,
      r.summary,
      ...r.failures,
    ].join('\n'),
  );
  assert.ok(r.faults.length >= 2, `only ${r.faults.length} faults were injected`);
}

test('pause: SIGSTOP/SIGCONT of stores, leaders and PD', { timeout: 180_000 }, async () => {
  await chaos('pause', 30_000);
});

test(
  'partition: isolated leader, majority/minority, one-way, through the transport failpoints',
  {
    timeout: 180_000,
    // Until `nyx store start --allow-failpoints` exists there is nothing to partition with.
    skip: storeAcceptsFailpointFlag() ? false : 'stores have no --allow-failpoints flag yet',
  },
  async () => {
    await chaos('partition', 30_000);
  },
);

test(
  'kill: kill -9 and restart of a store, a leader, PD, everything',
  {
    timeout: 180_000,
    // KNOWN FAILURE until the SDK's writes are exactly-once (issue 6 §4.1): the SDK
    // retries a write whose first attempt was applied, so under kill -9 this run finds
    // e.g. `cas "w13.28" → "w13.29" → not swapped, previous "w13.29"` — a CAS applied
    // twice. As a todo test it still runs and prints the failing sub-history, without
    // failing `npm test`. Remove the todo when exactly-once writes land.
    todo: 'a CAS is applied twice under kill -9 until exactly-once writes land (issue 6 §4.1)',
  },
  async () => {
    await chaos('kill', 40_000);
  },
);
