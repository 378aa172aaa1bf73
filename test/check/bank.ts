// The bank's end-of-run check. Every transfer writes, in the same transaction as the two
// balances, a record of itself under its own key; so after the run the records present
// say exactly which transfers committed, whatever their clients were told:
//   - an acknowledged transfer whose record is missing is a lost commit;
//   - a transfer its client was told definitely failed, whose record is present,
//     committed behind the client's back (the client's error contract is broken);
//   - the balances must equal the initial ones moved by exactly the recorded transfers
//     (atomicity: no half of a transfer without the other, no record without its money).
// Transfers with an unknown outcome (info) may be present or not.

export type TransferStatus = 'ok' | 'fail' | 'info';

export interface BankTransfer {
  id: string;
  from: string;
  to: string;
  amount: number;
  status: TransferStatus;
}

export interface BankCheck {
  /** Acknowledged transfers whose record is gone. */
  lost: BankTransfer[];
  /** Definitely failed transfers whose record is there. */
  phantom: BankTransfer[];
  /** Accounts whose final balance is not what the recorded transfers make it. */
  mismatched: { account: string; expected: number; actual: number | undefined }[];
  /** Info transfers that turned out committed (their record is there). */
  infoCommitted: number;
}

export function checkBank(
  initial: ReadonlyMap<string, number>,
  transfers: readonly BankTransfer[],
  recorded: ReadonlySet<string>,
  finalBalances: ReadonlyMap<string, number>,
): BankCheck {
  const expected = new Map(initial);
  const out: BankCheck = { lost: [], phantom: [], mismatched: [], infoCommitted: 0 };
  for (const t of transfers) {
    const committed = recorded.has(t.id);
    if (t.status === 'ok' && !committed) out.lost.push(t);
    if (t.status === 'fail' && committed) out.phantom.push(t);
    if (t.status === 'info' && committed) out.infoCommitted++;
    if (!committed) continue;
    if (!expected.has(t.from) || !expected.has(t.to)) {
      throw new Error(`transfer ${t.id} names an account that does not exist`);
    }
    expected.set(t.from, expected.get(t.from)! - t.amount);
    expected.set(t.to, expected.get(t.to)! + t.amount);
  }
  for (const [account, want] of expected) {
    const actual = finalBalances.get(account);
    if (actual !== want) out.mismatched.push({ account, expected: want, actual });
  }
  return out;
}

export function formatBankCheck(c: BankCheck): string[] {
  const show = (t: BankTransfer) => `${t.id} (${t.amount} from ${t.from} to ${t.to})`;
  return [
    ...c.lost.map((t) => `acknowledged transfer lost: ${show(t)}`),
    ...c.phantom.map((t) => `transfer reported as definitely failed committed: ${show(t)}`),
    ...c.mismatched.map(
      (m) =>
        `account ${m.account}: balance ${m.actual ?? 'missing'}, the recorded transfers make it ${m.expected}`,
    ),
  ];
}
