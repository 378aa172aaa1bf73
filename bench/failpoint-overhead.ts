// What a failpoint costs where it sits on a hot path: `failpoint(name)` with no failpoint
// set (one boolean test), with others set but not this one (one Map lookup), against a
// call of an empty function that takes the same argument. Median of several runs.
// Usage: node dist/bench/failpoint-overhead.js [--calls N] [--runs R]
import { parseArgs } from 'node:util';
import { clearFailpoints, failpoint, setFailpoint } from '../src/common/failpoint.js';
import type { FailpointName } from '../src/common/failpoint_names.js';

const { values } = parseArgs({
  options: {
    calls: { type: 'string', default: '50000000' },
    runs: { type: 'string', default: '5' },
  },
});
const CALLS = Number(values.calls);
const RUNS = Number(values.runs);

let sink = 0;
function emptySite(name: FailpointName): void {
  if (name.length === 0) sink++;
}

// One loop per case, each calling its site directly (as real code does), so the JIT can
// inline it; the loop alternates two names as neighbouring sites would.
function nsPerCall(loop: () => void): number {
  const t0 = process.hrtime.bigint();
  loop();
  return Number(process.hrtime.bigint() - t0) / CALLS;
}
function loopEmpty(): void {
  for (let i = 0; i < CALLS; i++) emptySite(i & 1 ? 'apply_before' : 'apply_after');
}
function loopFailpoint(): void {
  for (let i = 0; i < CALLS; i++) failpoint(i & 1 ? 'apply_before' : 'apply_after');
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const cases: [string, () => void, () => void][] = [
  ['empty function (baseline)', () => clearFailpoints(), loopEmpty],
  ['failpoint(), none set', () => clearFailpoints(), loopFailpoint],
  [
    'failpoint(), others set',
    () => setFailpoint('transport_drop_to_store_9', 'return'),
    loopFailpoint,
  ],
];
const results: Record<string, number[]> = {};
for (let r = 0; r < RUNS; r++) {
  for (const [label, setup, loop] of cases) {
    setup();
    (results[label] ??= []).push(nsPerCall(loop));
  }
}
clearFailpoints();
for (const [label] of cases) {
  console.log(`${label.padEnd(28)} ${median(results[label]!).toFixed(2)} ns/call`);
}
if (sink !== 0) console.log(sink);
