// Write latency of one Region while ANOTHER Region on the same stores splits: PD and three
// stores as real processes, a Region preloaded with --mb MiB, then writers put small values
// into a second Region for --seconds, once with no split (baseline) and once while the big
// Region splits in the middle. Prints p50 / p99 / max of both and how long the split took.
// Usage: node dist/bench/split-latency.js [--mb 64] [--seconds 8] [--writers 4] [--json]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createRawClient } from '../src/client/create_client.js';
import { PdClient } from '../src/client/pd_client.js';
import { freePortRange } from '../src/common/free_port.js';
import { Playground } from '../src/server/playground.js';

const { values: o } = parseArgs({
  options: {
    mb: { type: 'string', default: '64' },
    seconds: { type: 'string', default: '8' },
    writers: { type: 'string', default: '4' },
    json: { type: 'boolean', default: false },
  },
});
const MB = Number(o.mb);
const SECONDS = Number(o.seconds);
const WRITERS = Number(o.writers);
const VALUE = Buffer.alloc(8 << 10, 7);

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 0 : s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nyx-split-bench-'));
  const pdPort = await freePortRange(2);
  const pg = new Playground({
    dataDir: dir,
    stores: 3,
    regions: 1,
    host: '127.0.0.1',
    pdPort: pdPort + 1,
    pdStatusPort: pdPort,
    storePort: await freePortRange(3),
    storeStatusPort: await freePortRange(3),
    clean: false,
    storeArgs: ['--split-check-interval-ms', '3600000'],
  });
  await pg.start();
  const pd = PdClient.connect(pg.pdEndpoint);
  const kv = createRawClient({ pd: pg.pdEndpoint });
  try {
    // Two Regions: the big one [-inf, m), the measured one [m, +inf).
    await pd.splitRegions(0, [Buffer.from('m')], 20_000);
    const n = Math.ceil((MB << 20) / VALUE.length);
    const key = (i: number) => Buffer.from(`big${String(i).padStart(8, '0')}`);
    const t0 = Date.now();
    for (let i = 0; i < n; i += 256) {
      const batches = [];
      for (let j = i; j < Math.min(n, i + 256); j += 32) {
        const pairs: [Buffer, Buffer][] = [];
        for (let k = j; k < Math.min(n, j + 32); k++) pairs.push([key(k), VALUE]);
        batches.push(kv.batchPut(pairs));
      }
      await Promise.all(batches);
    }
    process.stderr.write(`preloaded ${MB} MiB in ${Date.now() - t0} ms\n`);

    const measure = async (during?: () => Promise<number>) => {
      const lat: number[] = [];
      let running = true;
      const loops = Array.from({ length: WRITERS }, async (_, w) => {
        for (let i = 0; running; i++) {
          const s = performance.now();
          await kv.put(`x-${w}-${i}`, 'v');
          lat.push(performance.now() - s);
        }
      });
      let splitMs: number | undefined;
      const side = (async () => {
        await new Promise((r) => setTimeout(r, 1000));
        if (during) splitMs = await during();
      })();
      await new Promise((r) => setTimeout(r, SECONDS * 1000));
      await side;
      running = false;
      await Promise.all(loops);
      return {
        writes: lat.length,
        p50: pct(lat, 50),
        p99: pct(lat, 99),
        max: pct(lat, 100),
        splitMs,
      };
    };
    const baseline = await measure();
    const splitting = await measure(async () => {
      const s = Date.now();
      await pd.splitRegions(0, [key(Math.floor(n / 2))], 60_000);
      return Date.now() - s;
    });
    const r = { mb: MB, writers: WRITERS, seconds: SECONDS, baseline, splitting };
    if (o.json) process.stdout.write(JSON.stringify(r) + '\n');
    else {
      const f = (x: number) => `${x.toFixed(1)} ms`;
      for (const [name, m] of [
        ['no split', baseline],
        ['during split', splitting],
      ] as const) {
        process.stdout.write(
          `${name.padEnd(13)} writes ${String(m.writes).padStart(6)}  p50 ${f(m.p50)}  p99 ${f(m.p99)}  max ${f(m.max)}\n`,
        );
      }
      process.stdout.write(
        `split of the ${MB} MiB Region took ${splitting.splitMs} ms (until PD showed it)\n`,
      );
    }
  } finally {
    kv.close();
    pd.close();
    await pg.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

await main();
