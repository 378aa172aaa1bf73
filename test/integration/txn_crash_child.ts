// A client process that dies in the middle of a commit, for txn_crash.test.ts:
//   node txn_crash_child.js <pd> after-prewrite <key=value>...
//     prewrites every key, prints PREWRITTEN <start_ts> and hangs before committing the primary
//     (its next timestamp request never returns) until the test kills it with -9;
//   node txn_crash_child.js <pd> after-primary <key=value>...
//     commits, prints COMMITTED <commit_ts> and kills itself at once, before the
//     background commits of the secondaries leave the process.
import { PdClient } from '../../src/client/pd_client.js';
import { TxnClient } from '../../src/client/txn/txn_client.js';

const [pdAddr, mode, ...pairs] = process.argv.slice(2);
if (!pdAddr || (mode !== 'after-prewrite' && mode !== 'after-primary') || pairs.length < 2) {
  process.stderr.write('usage: txn_crash_child <pd> after-prewrite|after-primary k=v k=v...\n');
  process.exit(2);
}
const pd = PdClient.connect(pdAddr);
let tsCalls = 0;
let committing = false;
// PD as the transaction client sees it, except that in after-prewrite mode the first
// timestamp commit() asks for never arrives: that is the commit_ts, asked once every
// prewrite succeeded (the lock TTL's age is measured on the local clock, committer.ts).
const lookup = Object.assign(Object.create(pd) as PdClient, {
  getTimestamp: (): Promise<bigint> => {
    if (committing && mode === 'after-prewrite' && ++tsCalls === 1) {
      process.stdout.write(`PREWRITTEN ${txn.startTs}\n`);
      return new Promise<bigint>(() => {});
    }
    return pd.getTimestamp();
  },
});
const client = new TxnClient(lookup, { lockTtlMs: 3000, onePC: false, asyncCommit: false });
const txn = await client.begin();
for (const p of pairs) {
  const i = p.indexOf('=');
  await txn.put(p.slice(0, i), p.slice(i + 1));
}
committing = true;
const ts = await txn.commit();
process.stdout.write(`COMMITTED ${ts}\n`);
process.kill(process.pid, 'SIGKILL');
