import { Args } from '@oclif/core';
import { PdCommand } from '../../../cli/base_command.js';
import { operatorDetails } from '../../../cli/operators.js';

export default class OperatorAddMovePeer extends PdCommand<typeof OperatorAddMovePeer> {
  static override description =
    "Move a Region's replica from one store to another (learner, joint change, removal).";
  static override examples = ['<%= config.bin %> operator add move-peer 4 1 5'];
  static override args = {
    region: Args.integer({ ignoreStdin: true, description: 'Region id', required: true }),
    from: Args.integer({ ignoreStdin: true, description: 'store id to move from', required: true }),
    to: Args.integer({ ignoreStdin: true, description: 'store id to move to', required: true }),
  };

  async run(): Promise<void> {
    const op = await this.pd().addOperator(this.args.region, 'move-peer', [
      this.args.from,
      this.args.to,
    ]);
    this.output(op, () => operatorDetails(op));
  }
}
