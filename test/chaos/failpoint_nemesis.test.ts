// The failpoint nemesis's list against the code: every name is in the registry of
// failpoints (src/common/failpoint_names.ts), every registered crash point is in the list,
// and every name has a `failpoint('<name>')` site in the process the nemesis arms — so a
// typo, a renamed failpoint or a new one the nemesis leaves out fails here instead of
// making runs that are "not hit" forever.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FAILPOINT_NAMES, isFailpointName } from '../../src/common/failpoint_names.js';
import { CRASH_POINTS } from './failpoint_nemesis.js';

/** The TypeScript sources (tests run from dist/test/chaos). */
const SRC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'src');

/** failpoint name → the source files (relative to src/) that hit it. */
function failpointSites(): Map<string, string[]> {
  const sites = new Map<string, string[]>();
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      // The failpoint module's own comments show calls; they are no sites.
      else if (e.name.endsWith('.ts') && !e.name.startsWith('failpoint')) {
        const text = fs.readFileSync(p, 'utf8');
        for (const m of text.matchAll(/\bfailpoint(?:Async)?\(\s*'([a-z0-9_]+)'/g)) {
          const rel = path.relative(SRC, p).split(path.sep).join('/');
          sites.set(m[1]!, [...(sites.get(m[1]!) ?? []), rel]);
        }
      }
    }
  };
  walk(SRC);
  return sites;
}

/** Which process runs a source file: PD's code, or a store's. */
function processOf(file: string): 'pd' | 'store' {
  if (file.startsWith('pd/') || file === 'server/pd_server.ts') return 'pd';
  if (file.startsWith('store/') || file === 'server/store_server.ts') return 'store';
  throw new Error(`a failpoint site in ${file}, which neither PD nor a store is said to run`);
}

test('every failpoint the nemesis arms is a registered name', () => {
  for (const p of CRASH_POINTS) {
    assert.ok(isFailpointName(p.name), `${p.name} is not in src/common/failpoint_names.ts`);
  }
  const names = CRASH_POINTS.map((p) => p.name);
  assert.equal(new Set(names).size, names.length, 'a failpoint listed twice');
});

test('every registered failpoint is one the nemesis arms', () => {
  const armed = new Set<string>(CRASH_POINTS.map((p) => p.name));
  const left = FAILPOINT_NAMES.filter((n) => !armed.has(n));
  assert.deepEqual(left, [], 'add these to CRASH_POINTS in failpoint_nemesis.ts');
});

test('every failpoint the nemesis arms is hit in the code of the process it arms', () => {
  const sites = failpointSites();
  assert.ok(sites.size > 0, `no failpoint sites found under ${SRC}`);
  for (const p of CRASH_POINTS) {
    const files = sites.get(p.name) ?? [];
    assert.ok(files.length > 0, `no failpoint('${p.name}') in src/`);
    for (const f of files) {
      assert.equal(processOf(f), p.process, `${p.name} is hit in ${f}, not in ${p.process} code`);
    }
  }
});

test('a replica-change point names the store to arm; no other point does', () => {
  for (const p of CRASH_POINTS) {
    assert.equal(p.role !== undefined, p.via === 'replica', p.name);
    assert.equal(p.process === 'pd', p.via === 'pd', p.name);
  }
});
