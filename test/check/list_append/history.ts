// A list-append history, the input of the checker (after Elle's list-append workload,
// Kingsbury & Alvaro, "Elle: Inferring Isolation Anomalies from Experimental
// Observations", VLDB 2020): every transaction is a list of micro-operations on keys
// whose values are lists; an append adds a value that no other append to that key ever
// adds, so every value names the one transaction that wrote it, and a read returns the
// whole list, so it reveals the order of every write before it.

/** Appends `value` to the list at `key`. */
export interface AppendOp {
  f: 'append';
  key: string;
  value: number;
}

/** Reads the list at `key`; `value` is what the read returned (null: not known). */
export interface ReadOp {
  f: 'r';
  key: string;
  value: number[] | null;
}

export type MicroOp = AppendOp | ReadOp;

/**
 * ok: committed, and its reads are known. fail: definitely aborted (none of its appends
 * may ever be seen). info: outcome unknown (it may have committed or not).
 */
export type TxnStatus = 'ok' | 'fail' | 'info';

export interface Txn {
  /** Unique within the history. */
  id: number;
  status: TxnStatus;
  ops: MicroOp[];
}

export function describeTxn(t: Txn): string {
  const ops = t.ops.map((o) =>
    o.f === 'append'
      ? `append ${o.key} ${o.value}`
      : `r ${o.key} ${o.value === null ? '?' : `[${o.value.join(' ')}]`}`,
  );
  return `T${t.id} (${t.status}): ${ops.join(', ')}`;
}
