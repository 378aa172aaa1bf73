// npm run fuzz -- [--duration 10m] [--seed S]: the fuzz run against a fresh local
// cluster, as long as asked. Prints the seed first; the same seed replays the run.
import { parseDurationMs } from '../../src/cli/flags.js';
import { TestCluster } from '../integration/cluster.js';
import { runFuzz } from './fuzz_run.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const durationMs = parseDurationMs(arg('duration') ?? '1m');
const seed = Number(arg('seed') ?? Math.floor(Math.random() * 2 ** 31));
console.log(`fuzz: seed ${seed}, ${durationMs / 1000} s (replay: npm run fuzz -- --seed ${seed})`);
const c = await TestCluster.start({ stores: 3, regions: 2 });
try {
  const r = await runFuzz(c, { durationMs, seed, log: (l) => console.log(l) });
  console.log(`fuzz passed: ${JSON.stringify(r)}`);
} catch (e) {
  console.error(`fuzz FAILED (seed ${seed}): ${(e as Error).message}`);
  console.error(`cluster data and logs kept in ${c.dir}`);
  process.exit(1);
}
await c.stop();
