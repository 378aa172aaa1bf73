import { Args } from '@oclif/core';
import { KvCommand } from '../../cli/kv_command.js';
import { parseKey } from '../../cli/keys.js';

export default class KvPut extends KvCommand<typeof KvPut> {
  static override description = 'Write a key; returns once the write is replicated and applied.';
  static override examples = [
    '<%= config.bin %> kv put hello world',
    '<%= config.bin %> kv put 0x00ff 0x0102',
  ];
  static override args = {
    key: Args.string({ description: 'the key (text, or hex as 0x...)', required: true }),
    value: Args.string({ description: 'the value (text, or hex as 0x...)', required: true }),
  };

  async run(): Promise<void> {
    const key = parseKey(this.args.key);
    await this.raw().put(key, parseKey(this.args.value));
    this.output({ key, ok: true }, () => 'OK');
  }
}
