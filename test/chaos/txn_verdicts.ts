// The checks of a transactional chaos run over what it recorded, apart from the run: the
// workloads call them after their final reads, and check_history.ts calls them on a
// kept append-history.json or bank-history.json, so an old run's history can be checked
// again offline (after a checker changes, or to read all of a failed run's report).
import { checkBank, formatBankCheck, type BankTransfer } from '../check/bank.js';
import { checkListAppend } from '../check/list_append/checker.js';
import type { Txn } from '../check/list_append/history.js';
import { findLostAppends } from '../check/list_append/lost_appends.js';
import type { Failure } from './verify.js';

/** Anomalies and lost appends shown in a failure (the kept history has them all). */
const SHOW = 20;

export interface AppendRecord {
  history: Txn[];
  /** The final read of every list; null when it failed. */
  finalReads: Record<string, number[]> | null;
}

/** Snapshot isolation (no G0, G1a, G1b, G1c, G-single) and no committed append lost. */
export function verifyAppend(r: AppendRecord): { failures: Failure[]; summary: string } {
  const failures: Failure[] = [];
  const result = checkListAppend(r.history);
  if (!result.valid) {
    const shown = result.anomalies.slice(0, SHOW);
    failures.push({
      check: 'snapshot-isolation',
      text:
        `${result.anomalies.length} anomalies (${[...result.anomalyTypes].join(', ')}):\n` +
        shown.join('\n') +
        (result.anomalies.length > shown.length ? `\n… (all in append-history.json)` : ''),
    });
  }
  const finalReads = r.finalReads ? new Map(Object.entries(r.finalReads)) : undefined;
  const lost = finalReads ? findLostAppends(r.history, finalReads) : [];
  if (lost.length > 0) {
    failures.push({
      check: 'no-lost-write',
      text:
        `${lost.length} committed appends missing from the final reads:\n` +
        lost
          .slice(0, SHOW)
          .map((l) => `  T${l.txn} appended ${l.value} to ${l.key}`)
          .join('\n'),
    });
  }
  const lostText =
    lost.length === 0 ? 'no committed append lost' : `${lost.length} committed appends LOST`;
  return {
    failures,
    summary:
      `list-append: ${result.edgeCount} dependencies, ` +
      `${result.valid ? 'no G0/G1a/G1b/G1c/G-single' : `${result.anomalies.length} ANOMALIES`}` +
      ` (${result.g2Count} G2 cycles, allowed), ` +
      (finalReads ? lostText : 'no final read'),
  };
}

export interface BankRecord {
  accounts: string[];
  initialBalance: number;
  transfers: BankTransfer[];
  /** Snapshot reads whose total was not accounts × initialBalance. */
  badTotals: { ts: string; total: number; balances: number[] }[];
  /** One snapshot after the faults: every balance and the transfers whose record is there. */
  final: { balances: Record<string, number>; recorded: string[] } | null;
}

/**
 * Every snapshot's total unchanged; the final balances are exactly what the recorded
 * transfers make them; no acknowledged transfer's record is missing.
 */
export function verifyBank(r: BankRecord): {
  failures: Failure[];
  summary: string;
  /** Transfers of unknown outcome whose record is there. */
  infoCommitted: number;
} {
  const failures: Failure[] = [];
  const total = r.accounts.length * r.initialBalance;
  for (const b of r.badTotals) {
    failures.push({
      check: 'bank',
      text: `snapshot at ts ${b.ts} saw a total of ${b.total}, not ${total}: [${b.balances.join(' ')}]`,
    });
  }
  const totals =
    r.badTotals.length === 0 ? `every total ${total}` : `${r.badTotals.length} WRONG totals`;
  if (!r.final) return { failures, summary: `${totals}; no final read`, infoCommitted: 0 };
  const initial = new Map(r.accounts.map((k) => [k, r.initialBalance]));
  const recorded = new Set(r.final.recorded);
  const check = checkBank(
    initial,
    r.transfers,
    recorded,
    new Map(Object.entries(r.final.balances)),
  );
  if (check.lost.length > 0) {
    failures.push({
      check: 'no-lost-write',
      text: formatBankCheck({ ...check, phantom: [], mismatched: [] }).join('\n'),
    });
  }
  const rest = formatBankCheck({ ...check, lost: [] });
  if (rest.length > 0) failures.push({ check: 'bank', text: rest.join('\n') });
  return {
    failures,
    summary:
      `${totals}; final balances ${check.mismatched.length === 0 ? 'match' : 'DO NOT match'} ` +
      `the ${recorded.size} recorded transfers, ` +
      `${check.lost.length === 0 ? 'no acknowledged transfer lost' : `${check.lost.length} acknowledged transfers LOST`}`,
    infoCommitted: check.infoCommitted,
  };
}
