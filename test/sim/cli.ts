// Command line driver of the simulation.
//   node dist/test/sim/cli.js --seeds N [--start S]   run seeds S..S+N-1 (default S=1)
//   node dist/test/sim/cli.js --seed S [--verbose]    replay one seed (with its event trace)
// Options: --ticks T sets the length of the chaos phase. Exits 1 if any seed fails.
import { DEFAULT_CHAOS_TICKS, runSeed } from './run.js';
import { parseSimArgs } from './cli_args.js';

function main(argv: string[]): number {
  const args = parseSimArgs(argv);
  const num = args.num;
  const chaosTicks = num('ticks', DEFAULT_CHAOS_TICKS);

  if (args.has('seed')) {
    const seed = num('seed', 0);
    const verbose = args.has('verbose');
    const r = runSeed({
      seed,
      chaosTicks,
      trace: verbose ? (line) => process.stdout.write(`${line}\n`) : undefined,
    });
    if (!r.ok) {
      console.error(r.error);
      return 1;
    }
    console.log(`seed ${seed}: ok (${r.summary})`);
    return 0;
  }

  const count = num('seeds', 100);
  const start = num('start', 1);
  const t0 = process.hrtime.bigint();
  const failures: number[] = [];
  let steps = 0;
  for (let seed = start; seed < start + count; seed++) {
    const r = runSeed({ seed, chaosTicks });
    steps += r.steps;
    if (!r.ok) {
      failures.push(seed);
      console.error(r.error);
    }
  }
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(
    `sim: ${count - failures.length}/${count} seeds passed (seeds ${start}..${start + count - 1}), ` +
      `${steps} steps in ${secs.toFixed(1)}s` +
      (failures.length ? `; failed seeds: ${failures.join(' ')}` : ''),
  );
  return failures.length ? 1 : 0;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (e) {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 2;
}
