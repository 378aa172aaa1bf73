import { Args } from '@oclif/core';
import { decodeArg, encodingOf } from '../../cli/encoding.js';
import { encodingFlags } from '../../cli/flags.js';
import { kvJson } from '../../cli/kv_json.js';
import { TxnCommand } from '../../cli/txn_command.js';
import { txnFlag } from '../../cli/txn_flags.js';

export default class TxnDelete extends TxnCommand<typeof TxnDelete> {
  static override description = 'Delete a key inside a transaction (buffered until commit).';
  static override examples = ['<%= config.bin %> txn delete session:42 --txn $TXN'];
  static override args = {
    key: Args.string({ ignoreStdin: true, description: 'the key', required: true }),
  };
  static override flags = { ...encodingFlags, txn: txnFlag };

  async run(): Promise<void> {
    const enc = encodingOf(this.flags);
    const key = decodeArg(this.args.key, enc, 'key');
    await this.ready();
    await this.host().delete(this.flags.txn, key);
    if (this.json) this.output(kvJson(key, undefined, enc), () => '');
  }
}
