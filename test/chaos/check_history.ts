// Checks a kept history again, offline: node dist/test/chaos/check_history.js <history.json>
// (after changing the checker, or to read the report of an old run). Exits 1 if it fails.
import { readHistoryFile } from './history_file.js';
import { verifyHistory } from './verify.js';

const file = process.argv[2];
if (!file) {
  console.error('usage: node dist/test/chaos/check_history.js <history.json>');
  process.exitCode = 2;
} else {
  const h = readHistoryFile(file);
  const v = verifyHistory(h.ops, new Map(Object.entries(h.finalReads)));
  console.log(`${file} (from: ${h.rerun})\n${v.summary}`);
  for (const f of v.failures) console.error(`\n[${f.check}] ${f.text}`);
  process.exitCode = v.failures.length ? 1 : 0;
}
