// The deterministic whole-cluster simulation as a test: 500 seeds in 10 groups of 50,
// each seed a full chaos phase followed by a liveness phase (see run.ts). A failing seed
// is reported with the one command that replays it.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { runSeed } from './run.js';

const GROUPS = 10;
const PER_GROUP = 50;

describe('deterministic cluster simulation', () => {
  for (let g = 0; g < GROUPS; g++) {
    const start = 1 + g * PER_GROUP;
    const end = start + PER_GROUP - 1;
    test(`seeds ${start}..${end} keep every safety invariant and make progress once healed`, () => {
      const failures: string[] = [];
      for (let seed = start; seed <= end; seed++) {
        const r = runSeed({ seed });
        if (!r.ok) failures.push(r.error!);
      }
      assert.deepEqual(failures, [], failures.join('\n\n'));
    });
  }

  test('the same seed produces the identical event trace', () => {
    for (const seed of [7, 4242]) {
      const a: string[] = [];
      const b: string[] = [];
      const ra = runSeed({ seed, chaosTicks: 300, trace: (l) => a.push(l) });
      const rb = runSeed({ seed, chaosTicks: 300, trace: (l) => b.push(l) });
      assert.ok(a.length > 1000, `trace of seed ${seed} is suspiciously short (${a.length})`);
      assert.deepEqual(b, a, `seed ${seed} diverged between two runs`);
      assert.equal(rb.summary, ra.summary);
    }
  });

  test('different seeds produce different runs', () => {
    const a: string[] = [];
    const b: string[] = [];
    runSeed({ seed: 1, chaosTicks: 100, trace: (l) => a.push(l) });
    runSeed({ seed: 2, chaosTicks: 100, trace: (l) => b.push(l) });
    assert.notDeepEqual(a, b);
  });
});
