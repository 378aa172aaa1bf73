// What the person at the keyboard has chosen: the view, the row under the cursor, the
// Region sort and key filter. Keys change it through onKey, a pure function, so every
// binding is tested without a terminal.
import { nextSort, type SortKey } from './regions_order.js';

export type ViewName = 'stores' | 'regions' | 'detail' | 'events';

export interface UiState {
  view: ViewName;
  /** Index of the selected row in the current view's list. */
  cursor: number;
  sort: SortKey;
  filter: string;
  /** Typing a filter after '/': keys go to the filter until Enter or Esc. */
  editingFilter: boolean;
  /** The Region the detail view shows. */
  detailRegion: number | null;
}

export const INITIAL_UI: UiState = {
  view: 'stores',
  cursor: 0,
  sort: 'writes',
  filter: '',
  editingFilter: false,
  detailRegion: null,
};

/** The subset of Ink's Key that the bindings read. */
export interface KeyPress {
  upArrow?: boolean;
  downArrow?: boolean;
  pageUp?: boolean;
  pageDown?: boolean;
  return?: boolean;
  escape?: boolean;
  backspace?: boolean;
  delete?: boolean;
  tab?: boolean;
  ctrl?: boolean;
}

export interface KeyContext {
  /** Rows in the current view's list. */
  rows: number;
  /** Region id of the row under the cursor in the regions view. */
  regionAt: (index: number) => number | undefined;
  /** Rows one page moves. */
  page: number;
}

const VIEW_KEYS: Record<string, ViewName> = { '1': 'stores', '2': 'regions', '3': 'events' };
const TAB_ORDER: ViewName[] = ['stores', 'regions', 'events'];

export function onKey(s: UiState, input: string, key: KeyPress, ctx: KeyContext): UiState | 'quit' {
  if (key.ctrl && input === 'c') return 'quit';
  if (s.editingFilter) {
    if (key.return) return { ...s, editingFilter: false };
    if (key.escape) return { ...s, editingFilter: false, filter: '', cursor: 0 };
    if (key.backspace || key.delete) return { ...s, filter: s.filter.slice(0, -1), cursor: 0 };
    if (input && !key.ctrl) return { ...s, filter: s.filter + input, cursor: 0 };
    return s;
  }
  const clamp = (i: number) => Math.max(0, Math.min(i, ctx.rows - 1));
  if (input === 'q') return 'quit';
  if (VIEW_KEYS[input]) return { ...s, view: VIEW_KEYS[input], cursor: 0 };
  if (key.tab) {
    const i = TAB_ORDER.indexOf(s.view === 'detail' ? 'regions' : s.view);
    return { ...s, view: TAB_ORDER[(i + 1) % TAB_ORDER.length], cursor: 0 };
  }
  if (key.downArrow || input === 'j') return { ...s, cursor: clamp(s.cursor + 1) };
  if (key.upArrow || input === 'k') return { ...s, cursor: clamp(s.cursor - 1) };
  if (key.pageDown) return { ...s, cursor: clamp(s.cursor + ctx.page) };
  if (key.pageUp) return { ...s, cursor: clamp(s.cursor - ctx.page) };
  if (input === 'g') return { ...s, cursor: 0 };
  if (input === 'G') return { ...s, cursor: clamp(ctx.rows - 1) };
  if (s.view === 'regions') {
    if (input === 's') return { ...s, sort: nextSort(s.sort), cursor: 0 };
    if (input === '/') return { ...s, editingFilter: true, filter: '', cursor: 0 };
    if (key.return) {
      const id = ctx.regionAt(s.cursor);
      return id === undefined ? s : { ...s, view: 'detail', detailRegion: id, cursor: 0 };
    }
  }
  if (s.view === 'detail' && (key.escape || key.backspace || input === 'h')) {
    return { ...s, view: 'regions', cursor: 0 };
  }
  return s;
}
