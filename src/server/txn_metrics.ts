// Metrics of the transactional commands on a store: how many of each command ended how
// (ok, a typed key error such as key_error:locked, a region error), and the state of
// the concurrency control: commands holding or waiting for latches, memory locks, max_ts.
import { Counter, Gauge, Registry } from 'prom-client';
import type { TxnKv } from '../store/txn_kv.js';
import { decomposeTs } from '../pd/timestamp.js';

/** The Kv methods that are transactional, as the Kv service names them for observers. */
const TXN_METHODS = new Set([
  'TxnGet',
  'TxnBatchGet',
  'TxnScan',
  'Prewrite',
  'Commit',
  'BatchRollback',
  'CheckTxnStatus',
  'CheckSecondaryLocks',
  'ResolveLock',
  'TxnHeartBeat',
  'ScanLock',
  'PessimisticLock',
  'PessimisticRollback',
]);

function commandName(method: string): string | undefined {
  if (TXN_METHODS.has(method)) return method;
  if (!method.startsWith('Batch.')) return undefined;
  const cmd = method.slice('Batch.'.length);
  const name = cmd.charAt(0).toUpperCase() + cmd.slice(1);
  return TXN_METHODS.has(name) ? name : undefined;
}

export class TxnMetrics {
  private readonly commands: Counter<'command' | 'outcome'>;

  constructor(registry: Registry, txn: TxnKv) {
    this.commands = new Counter({
      name: 'nyx_txn_commands_total',
      help: 'Transactional commands by command and outcome (ok, key_error:<kind>, region_error:<kind>, error)',
      labelNames: ['command', 'outcome'] as const,
      registers: [registry],
    });
    // Counted where the transaction becomes committed (TxnKv.committedTxns); a collect()
    // turns the store's running totals into counter increments at scrape time.
    const seen = { percolator: 0, onePc: 0 };
    new Counter({
      name: 'nyx_txn_committed_total',
      help: 'Transactions committed by this store as leader of their primary key (path: 2pc — a commit of the primary lock, also the final commit of async commit — or 1pc)',
      labelNames: ['path'] as const,
      registers: [registry],
      collect() {
        const now = txn.committedTxns;
        this.inc({ path: '2pc' }, now.percolator - seen.percolator);
        this.inc({ path: '1pc' }, now.onePc - seen.onePc);
        seen.percolator = now.percolator;
        seen.onePc = now.onePc;
      },
    });
    new Gauge({
      name: 'nyx_txn_latch_commands',
      help: 'Transactional commands holding or waiting for key latches',
      registers: [registry],
      collect() {
        this.set(txn.latches.waiting);
      },
    });
    new Gauge({
      name: 'nyx_txn_memory_locks',
      help: 'Async-commit / 1PC locks proposed and not yet applied (visible to readers)',
      registers: [registry],
      collect() {
        this.set(txn.cm.memoryLockCount);
      },
    });
    new Gauge({
      name: 'nyx_txn_lock_waiters',
      help: 'Pessimistic lock requests waiting for another transaction to release a key',
      registers: [registry],
      collect() {
        this.set(txn.waiters.count);
      },
    });
    new Gauge({
      name: 'nyx_txn_max_ts_physical_ms',
      help: 'Physical part (ms) of the highest timestamp a read was served at',
      registers: [registry],
      collect() {
        this.set(decomposeTs(txn.cm.maxTs).physical);
      },
    });
  }

  /** Fed by the Kv service's observer: counts transactional commands only. */
  observe(method: string, outcome: string): void {
    const command = commandName(method);
    if (command) this.commands.inc({ command, outcome });
  }
}
