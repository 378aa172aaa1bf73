// The fuzz run for a fixed short time (longer on demand: npm run fuzz -- --duration 10m).
// NYX_FUZZ_SEED replays a seed; otherwise each run draws one and prints it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { TestCluster } from './cluster.js';
import { runFuzz } from '../fuzz/fuzz_run.js';

let c: TestCluster;
before(async () => {
  c = await TestCluster.start({ stores: 3, regions: 2 });
});
after(async () => {
  await c?.stop();
});

test('mutated messages at every gRPC method leave the cluster serving and acknowledged writes readable', async (t) => {
  const seed = Number(process.env.NYX_FUZZ_SEED || Math.floor(Math.random() * 2 ** 31));
  t.diagnostic(`fuzz seed ${seed} (replay: NYX_FUZZ_SEED=${seed})`);
  const r = await runFuzz(c, { durationMs: 20_000, seed });
  t.diagnostic(JSON.stringify(r));
  // Every method was exercised and the writer made progress throughout.
  assert.ok(
    Object.keys(r.perMethod).length >= 30,
    `only ${Object.keys(r.perMethod).length} methods`,
  );
  assert.ok(r.acknowledged > 10, `${r.acknowledged} writes acknowledged`);
});
