// Command line driver of the chaos suite (`npm run chaos -- …`):
//   node dist/test/chaos/cli.js --nemesis kill,pause,partition --duration 10m --seed S
//                               [--stores 3|5] [--keep]
// Exits 0 when the run passed, 1 when it failed (its directory is kept and printed with
// the command that re-runs it), 2 on bad arguments.
import { parseArgs, rerunCommand } from './options.js';
import { runChaos } from './run.js';

async function main(argv: string[]): Promise<number> {
  let opts;
  try {
    opts = parseArgs(argv);
  } catch (e) {
    console.error((e as Error).message);
    return 2;
  }
  let r;
  try {
    r = await runChaos(opts, (line) => console.log(line));
  } catch (e) {
    // The cluster could not even start: nothing was tested.
    console.error(`chaos: could not run: ${(e as Error).message}`);
    return 1;
  }
  console.log(r.summary);
  if (r.ok) {
    console.log(`chaos: PASSED${r.keptDir ? ` (kept ${r.keptDir})` : ''}`);
    return 0;
  }
  for (const f of r.failures) console.error(`\n[${f.check}] ${f.text}`);
  console.error(`\nchaos: FAILED — history, logs and report kept in ${r.keptDir}`);
  console.error(`re-run: ${rerunCommand(opts)}`);
  return 1;
}

process.exitCode = await main(process.argv.slice(2));
