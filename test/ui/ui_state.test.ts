import { test } from 'node:test';
import assert from 'node:assert/strict';
import { INITIAL_UI, onKey, type KeyContext, type UiState } from '../../src/ui/ui_state.js';
import { filterRegions, nextSort, sortRegions } from '../../src/ui/regions_order.js';
import { hex, regionRow } from './fixtures.js';

const ctx: KeyContext = { rows: 5, regionAt: (i) => [10, 20, 30, 40, 50][i], page: 3 };

function press(s: UiState, ...keys: (string | object)[]): UiState | 'quit' {
  let cur: UiState | 'quit' = s;
  for (const k of keys) {
    if (cur === 'quit') return cur;
    cur = typeof k === 'string' ? onKey(cur, k, {}, ctx) : onKey(cur, '', k, ctx);
  }
  return cur;
}

test('number keys and tab switch views; q quits', () => {
  assert.equal((press(INITIAL_UI, '2') as UiState).view, 'regions');
  assert.equal((press(INITIAL_UI, '3') as UiState).view, 'events');
  assert.equal((press(INITIAL_UI, { tab: true }) as UiState).view, 'regions');
  assert.equal((press(INITIAL_UI, '3', { tab: true }) as UiState).view, 'stores');
  assert.equal(press(INITIAL_UI, 'q'), 'quit');
  assert.equal(onKey(INITIAL_UI, 'c', { ctrl: true }, ctx), 'quit');
});

test('j k and arrows move within the rows, never past the ends', () => {
  assert.equal((press(INITIAL_UI, 'j', 'j', { downArrow: true }) as UiState).cursor, 3);
  assert.equal((press(INITIAL_UI, 'j', 'j', 'j', 'j', 'j', 'j') as UiState).cursor, 4);
  assert.equal((press(INITIAL_UI, 'j', 'k', { upArrow: true }) as UiState).cursor, 0);
  assert.equal((press(INITIAL_UI, { pageDown: true }) as UiState).cursor, 3);
  assert.equal((press(INITIAL_UI, 'G') as UiState).cursor, 4);
});

test('s cycles the Region sort, / edits a filter until enter, esc clears it', () => {
  const r = press(INITIAL_UI, '2') as UiState;
  assert.equal((press(r, 's') as UiState).sort, nextSort(r.sort));
  const typed = press(r, '/', 'a', 'b', 'q', { backspace: true }) as UiState;
  assert.equal(typed.editingFilter, true);
  assert.equal(typed.filter, 'ab', "'q' while typing is text, and backspace removes it");
  const applied = press(typed, { return: true }) as UiState;
  assert.equal(applied.editingFilter, false);
  assert.equal(applied.filter, 'ab');
  assert.equal((press(typed, { escape: true }) as UiState).filter, '');
  // s and / do nothing outside the regions view.
  assert.deepEqual(press(INITIAL_UI, 's', '/'), INITIAL_UI);
});

test('enter opens the Region under the cursor; esc goes back', () => {
  const d = press(INITIAL_UI, '2', 'j', 'j', { return: true }) as UiState;
  assert.equal(d.view, 'detail');
  assert.equal(d.detailRegion, 30);
  assert.equal((press(d, { escape: true }) as UiState).view, 'regions');
});

test('sort: largest first, unknown last, ties by id; filter: Regions holding the key', () => {
  const rows = [
    regionRow(1, { writesPerSec: 5, endKey: hex('g') }),
    regionRow(2, { writesPerSec: null, startKey: hex('g'), endKey: hex('p') }),
    regionRow(3, { writesPerSec: 50, startKey: hex('p') }),
    regionRow(4, { writesPerSec: 5, sizeBytes: 10 }),
  ];
  assert.deepEqual(
    sortRegions(rows, 'writes').map((r) => r.id),
    [3, 1, 4, 2],
  );
  assert.deepEqual(
    sortRegions(rows, 'size').map((r) => r.id),
    [4, 1, 2, 3],
  );
  assert.deepEqual(
    filterRegions(rows.slice(0, 3), 'k').map((r) => r.id),
    [2],
  );
  assert.deepEqual(
    filterRegions(rows.slice(0, 3), '0x70').map((r) => r.id),
    [3],
    "hex 0x70 is 'p', the first key of region 3",
  );
  assert.equal(filterRegions(rows, '').length, 4);
});
