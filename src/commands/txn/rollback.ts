import { TxnCommand } from '../../cli/txn_command.js';
import { txnFlag } from '../../cli/txn_flags.js';

export default class TxnRollback extends TxnCommand<typeof TxnRollback> {
  static override description = 'Roll a transaction back: nothing it wrote takes effect.';
  static override examples = ['<%= config.bin %> txn rollback --txn $TXN'];
  static override flags = { txn: txnFlag };

  async run(): Promise<void> {
    await this.ready();
    await this.host().rollback(this.flags.txn);
    this.output({ txn: this.flags.txn, rolledBack: true }, () => 'rolled back');
  }
}
