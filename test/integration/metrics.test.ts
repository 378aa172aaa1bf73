// The metric catalog on a running cluster: every metric the Grafana dashboard in deploy/
// queries exists on PD or on a store, the process metrics are not double-prefixed, and
// the build info and store-state gauges are there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from '../cli/nyx.js';
import { TestCluster } from './cluster.js';

const DASHBOARD = path.join(ROOT, 'deploy', 'grafana', 'nyxdb-dashboard.json');

interface Panel {
  targets?: { expr: string }[];
  panels?: Panel[];
}

/** Every nyx_* name the dashboard's queries use. */
function dashboardMetrics(): Set<string> {
  const dash = JSON.parse(fs.readFileSync(DASHBOARD, 'utf8')) as { panels: Panel[] };
  const names = new Set<string>();
  const visit = (ps: Panel[]) => {
    for (const p of ps) {
      for (const t of p.targets ?? [])
        for (const m of t.expr.matchAll(/\bnyx_\w+/g)) names.add(m[0]);
      visit(p.panels ?? []);
    }
  };
  visit(dash.panels);
  return names;
}

/** Families by their # TYPE lines, with the sample names each exposes. */
function exposedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    const m = /^# TYPE (\S+) (\w+)/.exec(line);
    if (!m) continue;
    const [, name, type] = m;
    names.add(name!);
    if (type === 'histogram') for (const s of ['_bucket', '_count', '_sum']) names.add(name! + s);
    if (type === 'summary') for (const s of ['_count', '_sum']) names.add(name! + s);
  }
  return names;
}

test('every metric the Grafana dashboard queries exists on a running cluster', async (t) => {
  const c = await TestCluster.start({ stores: 3 });
  t.after(() => c.stop());
  const client = c.rawClient();
  await client.put(Buffer.from('metrics'), Buffer.from('v'));
  await client.get(Buffer.from('metrics'));

  const pdText = await (await fetch(`http://${c.pg.process('pd').status}/metrics`)).text();
  const storeText = await (await fetch(`http://${c.pg.process('store1').status}/metrics`)).text();
  const exposed = new Set([...exposedNames(pdText), ...exposedNames(storeText)]);

  const wanted = dashboardMetrics();
  assert.ok(wanted.size >= 25, `the dashboard queries ${wanted.size} metrics`);
  const missing = [...wanted].filter((n) => !exposed.has(n)).sort();
  assert.deepEqual(missing, [], 'metrics the dashboard queries but no process exposes');

  // The doubled prefix is gone; process metrics read nyx_process_* / nyx_pd_process_*.
  assert.doesNotMatch(storeText + pdText, /process_process_/);
  assert.match(storeText, /^nyx_process_cpu_seconds_total /m);
  assert.match(pdText, /^nyx_pd_process_cpu_seconds_total /m);
  assert.match(
    storeText,
    /^nyx_build_info\{component="store",version="\d+\.\d+\.\d+",node_version="[\d.]+"\} 1$/m,
  );
  // The get above was linearizable: the leader's store counted it on one of the two paths.
  const reads = await Promise.all(
    c.storeNames().map(async (n) => {
      const text = await (await fetch(`http://${c.pg.process(n).status}/metrics`)).text();
      let sum = 0;
      for (const m of text.matchAll(
        /^nyx_store_linearizable_reads_total\{path="(lease|read_index)"\} (\d+)$/gm,
      ))
        sum += Number(m[2]);
      return sum;
    }),
  );
  assert.ok(
    reads.reduce((a, b) => a + b, 0) >= 1,
    `linearizable reads counted: ${reads.join(', ')}`,
  );
  assert.match(storeText, /^nyx_store_linearizable_reads_total\{path="lease"\} \d+$/m);
  assert.match(pdText, /^nyx_pd_stores\{state="Up"\} 3$/m);
  assert.match(pdText, /^nyx_pd_stores\{state="Down"\} 0$/m);

  // Every metric in the catalog (docs/metrics.md) exists too, and the catalog names
  // every metric the processes expose (besides the generic process metrics).
  const doc = fs
    .readFileSync(path.join(ROOT, 'docs', 'metrics.md'), 'utf8')
    .split('## Renamed')[0]!;
  const documented = new Set(
    [...doc.matchAll(/`(nyx_\w+)`/g)].map((m) => m[1]!).filter((n) => !n.endsWith('_')),
  );
  const undocumented = [...exposed]
    .filter((n) => !/_(bucket|count|sum)$/.test(n))
    .filter((n) => !/^nyx_(pd_)?(process|nodejs)_/.test(n))
    .filter((n) => !documented.has(n))
    .sort();
  assert.deepEqual(undocumented, [], 'exposed but not in docs/metrics.md');
  const gone = [...documented].filter((n) => !exposed.has(n)).sort();
  assert.deepEqual(gone, [], 'in docs/metrics.md but not exposed');
});
