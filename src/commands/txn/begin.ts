import { Flags } from '@oclif/core';
import { TxnCommand } from '../../cli/txn_command.js';

export default class TxnBegin extends TxnCommand<typeof TxnBegin> {
  static override description = `Begin a transaction and print its id, for later nyx txn get|put|delete|scan|commit|rollback --txn ID calls (from any process).
The transaction lives on the store that began it until commit, rollback, or its idle TTL (the store's --txn-idle-ttl, default 60 s): a transaction left idle that long is rolled back, and a later call on it fails.`;
  static override examples = [
    'TXN=$(<%= config.bin %> txn begin)',
    '<%= config.bin %> txn begin --pessimistic --json',
  ];
  static override flags = {
    pessimistic: Flags.boolean({
      description: 'lock keys as they are written (conflicts surface at the write)',
      default: false,
    }),
    'idle-ttl': Flags.integer({
      description:
        "roll back after this many ms without a call (at most, and by default, the store's --txn-idle-ttl)",
      min: 1,
    }),
    'async-commit': Flags.boolean({
      description: 'commit once every prewrite succeeded (one round trip less)',
      default: false,
    }),
  };

  async run(): Promise<void> {
    await this.ready();
    const r = await this.host().begin(
      { pessimistic: this.flags.pessimistic, asyncCommit: this.flags['async-commit'] },
      this.flags['idle-ttl'] ?? 0,
    );
    // One line, the id alone, so that TXN=$(nyx txn begin) works.
    this.output(
      { txn: r.txnId, startTs: r.startTs.toString(), idleTtlMs: r.idleTtlMs },
      () => r.txnId,
    );
  }
}
