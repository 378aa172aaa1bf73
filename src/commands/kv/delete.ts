import { Args } from '@oclif/core';
import { KvCommand } from '../../cli/kv_command.js';
import { decodeArg, encodingOf } from '../../cli/encoding.js';
import { encodingFlags } from '../../cli/flags.js';
import { kvJson } from '../../cli/kv_json.js';

export default class KvDelete extends KvCommand<typeof KvDelete> {
  static override description = 'Delete a key (deleting a missing key succeeds).';
  static override examples = [
    '<%= config.bin %> kv delete hello',
    '<%= config.bin %> kv delete 00ff --hex',
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
    await this.call((raw) => raw.delete(key));
    this.output(kvJson(key, undefined, enc, { ok: true }), () => 'OK');
  }
}
