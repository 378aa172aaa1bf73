import { Args } from '@oclif/core';
import { decodeArg, displayBytes, encodingOf } from '../../cli/encoding.js';
import { encodingFlags } from '../../cli/flags.js';
import { kvJson } from '../../cli/kv_json.js';
import { TxnCommand } from '../../cli/txn_command.js';
import { txnFlag } from '../../cli/txn_flags.js';

export default class TxnGet extends TxnCommand<typeof TxnGet> {
  static override description =
    'Read a key inside a transaction: its snapshot at start_ts, with its own writes. A missing key prints nothing.';
  static override examples = ['<%= config.bin %> txn get balance:alice --txn $TXN'];
  static override args = {
    key: Args.string({ ignoreStdin: true, description: 'the key', required: true }),
  };
  static override flags = { ...encodingFlags, txn: txnFlag };

  async run(): Promise<void> {
    const enc = encodingOf(this.flags);
    const key = decodeArg(this.args.key, enc, 'key');
    await this.ready();
    const value = await this.host().get(this.flags.txn, key);
    if (this.json)
      this.output(kvJson(key, value ?? null, enc, { found: value !== undefined }), () => '');
    else if (value !== undefined) process.stdout.write(displayBytes(value, enc) + '\n');
  }
}
