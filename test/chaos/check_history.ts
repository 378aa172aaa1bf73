// Checks a kept history again, offline: node dist/test/chaos/check_history.js <file>, where
// the file is a kept run's history.json (RawKV: linearizability and no lost write),
// append-history.json (list-append: snapshot isolation and no lost append) or
// bank-history.json (the bank's totals, balances and records). Use it after changing a
// checker, or to read the whole report of an old run. Exits 1 if the history fails.
import fs from 'node:fs';
import { readHistoryFile } from './history_file.js';
import { type AppendRecord, type BankRecord, verifyAppend, verifyBank } from './txn_verdicts.js';
import type { Failure } from './verify.js';
import { verifyHistory } from './verify.js';

function check(file: string): { rerun: string; summary: string; failures: Failure[] } {
  const raw = JSON.parse(fs.readFileSync(file, 'utf8')) as { rerun?: string } & Record<
    string,
    unknown
  >;
  const rerun = raw.rerun ?? '?';
  if (Array.isArray(raw.history)) return { rerun, ...verifyAppend(raw as unknown as AppendRecord) };
  if (Array.isArray(raw.transfers)) return { rerun, ...verifyBank(raw as unknown as BankRecord) };
  const h = readHistoryFile(file);
  return { rerun, ...verifyHistory(h.ops, new Map(Object.entries(h.finalReads))) };
}

const file = process.argv[2];
if (!file) {
  console.error('usage: node dist/test/chaos/check_history.js <history.json>');
  process.exitCode = 2;
} else {
  const v = check(file);
  console.log(`${file} (from: ${v.rerun})\n${v.summary}`);
  for (const f of v.failures) console.error(`\n[${f.check}] ${f.text}`);
  process.exitCode = v.failures.length ? 1 : 0;
}
