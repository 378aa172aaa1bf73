import { Args, Flags } from '@oclif/core';
import { decodeArg, encodingOf } from '../../cli/encoding.js';
import { encodingFlags } from '../../cli/flags.js';
import { kvJson } from '../../cli/kv_json.js';
import { TxnCommand } from '../../cli/txn_command.js';
import { txnFlag } from '../../cli/txn_flags.js';
import { readValueSource } from '../../cli/value_source.js';

export default class TxnPut extends TxnCommand<typeof TxnPut> {
  static override description =
    'Write a key inside a transaction (buffered until commit; a pessimistic transaction locks it now).';
  static override examples = [
    '<%= config.bin %> txn put balance:alice 90 --txn $TXN',
    '<%= config.bin %> txn put doc:1 --file doc.json --txn $TXN',
  ];
  static override args = {
    key: Args.string({ ignoreStdin: true, description: 'the key', required: true }),
    value: Args.string({ ignoreStdin: true, description: 'the value (or --file)' }),
  };
  static override flags = {
    ...encodingFlags,
    txn: txnFlag,
    file: Flags.string({
      description: 'read the value from this file ("-": stdin), byte for byte',
    }),
  };

  async run(): Promise<void> {
    const enc = encodingOf(this.flags);
    const key = decodeArg(this.args.key, enc, 'key');
    if ((this.args.value === undefined) === (this.flags.file === undefined)) {
      this.fail('give the value as an argument or with --file, not both');
    }
    const value =
      this.args.value !== undefined
        ? decodeArg(this.args.value, enc, 'value')
        : await readValueSource(this.flags.file!);
    await this.ready();
    await this.host().put(this.flags.txn, key, value);
    if (this.json) this.output(kvJson(key, value, enc), () => '');
  }
}
