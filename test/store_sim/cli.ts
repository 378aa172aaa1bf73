// Command line driver of the store simulation.
//   node dist/test/store_sim/cli.js --seeds N [--start S]   run seeds S..S+N-1 (default S=1)
//   node dist/test/store_sim/cli.js --seed S [--verbose]    replay one seed (--verbose: event trace)
// Options: --chaos-ms T / --heal-ms H set the virtual length of the chaos and heal phases. Exits 1 if a seed fails.
import { DEFAULT_CHAOS_MS, DEFAULT_HEAL_MS, runSeed } from './run.js';
import { parseSimArgs } from '../sim/cli_args.js';

async function main(argv: string[]): Promise<number> {
  const args = parseSimArgs(argv);
  const num = args.num;
  const chaosMs = num('chaos-ms', DEFAULT_CHAOS_MS);
  const healMs = num('heal-ms', DEFAULT_HEAL_MS);

  if (args.has('seed')) {
    const seed = num('seed', 0);
    const verbose = args.has('verbose');
    const r = await runSeed({
      seed,
      chaosMs,
      healMs,
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
  const merges = { asked: 0, committed: 0, rolledBack: 0 };
  for (let seed = start; seed < start + count; seed++) {
    const r = await runSeed({ seed, chaosMs, healMs });
    steps += r.steps;
    merges.asked += r.merges?.asked ?? 0;
    merges.committed += r.merges?.committed ?? 0;
    merges.rolledBack += r.merges?.rolledBack ?? 0;
    if (!r.ok) {
      failures.push(seed);
      console.error(r.error);
    }
  }
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(
    `sim:store: ${count - failures.length}/${count} seeds passed (seeds ${start}..${start + count - 1}), ` +
      `${steps} events in ${secs.toFixed(1)}s (${((secs * 1000) / Math.max(1, count)).toFixed(0)} ms/seed); ` +
      `merges: ${merges.asked} asked, ${merges.committed} committed, ${merges.rolledBack} rolled back` +
      (failures.length ? `; failed seeds: ${failures.join(' ')}` : ''),
  );
  return failures.length ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exitCode = 2;
  },
);
