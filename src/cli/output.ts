// Rendering shared by the commands: tables for people (cli-table3), JSON for scripts.
// JSON turns bigints (timestamps) into decimal strings and Buffers (keys) into readable
// keys, so `--json` output is always valid JSON that loses nothing.
import Table from 'cli-table3';
import { formatKey } from '../region/meta.js';

export type Cell = string | number | boolean | bigint | null | undefined;

function cell(v: Cell): string {
  if (v === null || v === undefined) return '';
  return String(v);
}

function style(): { head: string[]; border: string[] } {
  // No colours when piped: escape codes in a file or a grep are noise.
  return process.stdout.isTTY ? { head: ['cyan'], border: [] } : { head: [], border: [] };
}

/** A table with a header row. */
export function renderTable(head: string[], rows: Cell[][]): string {
  const t = new Table({ head, style: style() });
  for (const r of rows) t.push(r.map(cell));
  return t.toString();
}

/** A two-column field/value table, for one object. */
export function renderFields(rows: [string, Cell][]): string {
  const t = new Table({ style: style() });
  for (const [k, v] of rows) t.push({ [k]: cell(v) });
  return t.toString();
}

export function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value && typeof value === 'object' && (value as { type?: unknown }).type === 'Buffer') {
    const data = (value as { data?: unknown }).data;
    if (Array.isArray(data)) return formatKey(Buffer.from(data as number[]));
  }
  if (value instanceof Uint8Array) return formatKey(value);
  return value;
}

export function renderJson(value: unknown): string {
  return JSON.stringify(value, jsonReplacer, 2);
}
