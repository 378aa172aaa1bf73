import { Args } from '@oclif/core';
import { PdCommand } from '../../../cli/base_command.js';
import { operatorDetails } from '../../../cli/operators.js';

export default class OperatorAddTransferLeader extends PdCommand<typeof OperatorAddTransferLeader> {
  static override description = "Move a Region's leadership to its voter on a store.";
  static override examples = ['<%= config.bin %> operator add transfer-leader 4 2'];
  static override args = {
    region: Args.integer({ ignoreStdin: true, description: 'Region id', required: true }),
    store: Args.integer({ ignoreStdin: true, description: 'store id', required: true }),
  };

  async run(): Promise<void> {
    const op = await this.pd().addOperator(this.args.region, 'transfer-leader', [this.args.store]);
    this.output(op, () => operatorDetails(op));
  }
}
