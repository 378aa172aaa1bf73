import { Args } from '@oclif/core';
import { PdCommand } from '../../../cli/base_command.js';
import { renderTable } from '../../../cli/output.js';
import { configDef } from '../../../pd/config/schema.js';

export default class PdConfigShow extends PdCommand<typeof PdConfigShow> {
  static override description =
    "Show PD's settings (liveness, replication, Region size, scheduling limits): value, default, meaning.";
  static override examples = [
    '<%= config.bin %> pd config show',
    '<%= config.bin %> pd config show max-store-down-time',
    '<%= config.bin %> pd config show --json',
  ];
  static override args = {
    name: Args.string({ description: 'only this setting', required: false }),
  };

  async run(): Promise<void> {
    // An unknown name fails here, with its close matches, before asking PD.
    const only = this.args.name === undefined ? undefined : configDef(this.args.name).name;
    const { items, version } = await this.pd().getConfig();
    const shown = only === undefined ? items : items.filter((i) => i.name === only);
    if (only !== undefined && shown.length === 0) {
      this.fail(`PD does not know the setting ${only} (an older PD?)`);
    }
    this.output(
      { version, items: shown },
      () =>
        renderTable(
          ['name', 'value', 'default', 'description'],
          shown.map((i) => [
            i.name,
            i.value === i.default ? i.value : `${i.value} *`,
            i.default,
            i.description,
          ]),
        ) + (shown.some((i) => i.value !== i.default) ? '\n* changed from the default' : ''),
    );
  }
}
