import { PdCommand } from '../../cli/base_command.js';
import { gcStatusJson, renderGcStatus } from '../../cli/gc_status.js';

export default class GcStatus extends PdCommand<typeof GcStatus> {
  static override description =
    "Show the GC safe point (no read below it is served), its age, the service safe points holding it back, and each store's GC progress.";
  static override examples = [
    '<%= config.bin %> gc status',
    '<%= config.bin %> gc status --json',
    '<%= config.bin %> pd config set gc-life-time 30m',
  ];

  async run(): Promise<void> {
    const s = await this.pd().getGcStatus();
    this.output(gcStatusJson(s), () => renderGcStatus(s));
  }
}
