import { Args } from '@oclif/core';
import { KvCommand } from '../../cli/kv_command.js';
import { parseKey } from '../../cli/keys.js';
import { formatKey } from '../../region/meta.js';

export default class KvGet extends KvCommand<typeof KvGet> {
  static override description = 'Read a key (a linearizable read). A missing key is not an error.';
  static override examples = [
    '<%= config.bin %> kv get hello',
    '<%= config.bin %> kv get 0x00ff --json',
  ];
  static override args = {
    key: Args.string({ description: 'the key (text, or hex as 0x...)', required: true }),
  };

  async run(): Promise<void> {
    const key = parseKey(this.args.key);
    const value = await this.raw().get(key);
    this.output({ key, found: value !== undefined, value: value ?? null }, () =>
      value === undefined ? '(not found)' : formatKey(value),
    );
  }
}
