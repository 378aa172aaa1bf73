import { TxnCommand } from '../../cli/txn_command.js';
import { txnFlag } from '../../cli/txn_flags.js';

export default class TxnCommit extends TxnCommand<typeof TxnCommit> {
  static override description = `Commit a transaction and print its commit timestamp.
A write conflict exits 1 with one line that says "conflict" and names the key (the transaction is rolled back); a transaction rolled back after its idle TTL fails with "expired".`;
  static override examples = ['<%= config.bin %> txn commit --txn $TXN'];
  static override flags = { txn: txnFlag };

  async run(): Promise<void> {
    await this.ready();
    const ts = await this.host().commit(this.flags.txn);
    this.output({ txn: this.flags.txn, commitTs: ts.toString() }, () => ts.toString());
  }
}
