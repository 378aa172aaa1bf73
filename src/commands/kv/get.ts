import { Args } from '@oclif/core';
import { KvCommand } from '../../cli/kv_command.js';
import { decodeArg, displayBytes, encodingOf } from '../../cli/encoding.js';
import { encodingFlags } from '../../cli/flags.js';
import { kvJson } from '../../cli/kv_json.js';

export default class KvGet extends KvCommand<typeof KvGet> {
  static override description = `Read a key (a linearizable read). A missing key is not an error.
The key is text unless --hex or --base64 is given; the value prints as text when it is plain text, else as a quoted escaped string ("\\x00\\x01"), or in the --hex / --base64 encoding.`;
  static override examples = [
    '<%= config.bin %> kv get hello',
    '<%= config.bin %> kv get 00ff --hex',
    '<%= config.bin %> kv get hello --json',
  ];
  static override args = {
    key: Args.string({
      ignoreStdin: true,
      description: 'the key (text; hex with --hex, base64 with --base64)',
      required: true,
    }),
  };
  static override flags = { ...encodingFlags };

  async run(): Promise<void> {
    const enc = encodingOf(this.flags);
    const key = decodeArg(this.args.key, enc, 'key');
    const value = await this.call((raw) => raw.get(key));
    this.output(kvJson(key, value ?? null, enc, { found: value !== undefined }), () =>
      value === undefined ? '(not found)' : displayBytes(value, enc),
    );
  }
}
