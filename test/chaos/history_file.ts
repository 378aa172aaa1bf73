// history.json: a run's recorded operations (JSON has no Infinity: an indeterminate
// operation's return time is stored as null) with the options that produced them.
import fs from 'node:fs';
import type { KvOperation, Value } from '../check/history.js';

export interface HistoryFile {
  rerun: string;
  ops: KvOperation[];
  /** The final read of every key, after the faults healed. */
  finalReads: Record<string, Value>;
}

export function writeHistoryFile(file: string, h: HistoryFile): void {
  const ops = h.ops.map((op) => ({ ...op, ret: op.ret === Infinity ? null : op.ret }));
  fs.writeFileSync(file, JSON.stringify({ ...h, ops }, null, 1) + '\n');
}

export function readHistoryFile(file: string): HistoryFile {
  const raw = JSON.parse(fs.readFileSync(file, 'utf8')) as HistoryFile & {
    ops: (Omit<KvOperation, 'ret'> & { ret: number | null })[];
  };
  return { ...raw, ops: raw.ops.map((op) => ({ ...op, ret: op.ret ?? Infinity })) };
}
