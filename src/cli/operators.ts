// Rendering operators for `nyx operator ...` and `nyx region transfer-leader`.
import type { OperatorView } from '../proto/convert_operator.js';

export const OPERATOR_HEADER = ['id', 'region', 'desc', 'step', 'status', 'age'];

export function operatorRow(o: OperatorView, nowMs = Date.now()): (string | number)[] {
  const step =
    o.currentStep < o.steps.length
      ? `${o.currentStep + 1}/${o.steps.length} ${o.steps[o.currentStep]!.desc}`
      : `${o.steps.length}/${o.steps.length}`;
  const age = `${(((o.endedAtMs ?? nowMs) - o.createdAtMs) / 1000).toFixed(1)}s`;
  return [o.id, o.regionId, o.desc, step, o.status, age];
}

export function operatorDetails(o: OperatorView): string {
  const lines = [
    `operator ${o.id} on region ${o.regionId}: ${o.desc}`,
    `kind ${o.kind}, priority ${o.priority}, epoch ${o.epoch.confVer}/${o.epoch.version}, timeout ${o.timeoutMs} ms`,
    `status: ${o.status}`,
    ...o.steps.map(
      (s, i) =>
        `  ${i < o.currentStep ? 'done' : i === o.currentStep && o.status === 'running' ? ' -> ' : '    '} ${i + 1}. ${s.desc}`,
    ),
  ];
  return lines.join('\n');
}
