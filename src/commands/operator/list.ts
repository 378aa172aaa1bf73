import { Flags } from '@oclif/core';
import { PdCommand } from '../../cli/base_command.js';
import { renderTable } from '../../cli/output.js';
import { OPERATOR_HEADER, operatorRow } from '../../cli/operators.js';

export default class OperatorList extends PdCommand<typeof OperatorList> {
  static override description =
    'List the operators PD is carrying out (and, with --all, the last ended ones).';
  static override examples = [
    '<%= config.bin %> operator list',
    '<%= config.bin %> operator list --all --json',
  ];
  static override flags = {
    all: Flags.boolean({ description: 'also the operators that ended lately', default: false }),
  };

  async run(): Promise<void> {
    const ops = await this.pd().listOperators(this.flags.all);
    this.output(ops, () =>
      renderTable(
        OPERATOR_HEADER,
        ops.map((o) => operatorRow(o)),
      ),
    );
  }
}
