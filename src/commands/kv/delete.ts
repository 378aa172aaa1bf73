import { Args } from '@oclif/core';
import { KvCommand } from '../../cli/kv_command.js';
import { parseKey } from '../../cli/keys.js';

export default class KvDelete extends KvCommand<typeof KvDelete> {
  static override description = 'Delete a key (deleting a missing key succeeds).';
  static override examples = ['<%= config.bin %> kv delete hello'];
  static override args = {
    key: Args.string({ description: 'the key (text, or hex as 0x...)', required: true }),
  };

  async run(): Promise<void> {
    const key = parseKey(this.args.key);
    await this.raw().delete(key);
    this.output({ key, ok: true }, () => 'OK');
  }
}
