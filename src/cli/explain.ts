// How `nyx region explain` prints: the Region, its running operator, then each checker's
// and scheduler's verdict — one line of decision, the numbers behind it, and the steps it
// would take. The words are PD's (src/pd/schedule/): this only lays them out.
import type { RegionExplanation } from '../pd/schedule/coordinator.js';
import { PeerRole } from '../region/meta.js';
import { displayBytes, type Encoding } from './encoding.js';
import { regionJson } from './regions.js';

const OUTCOME_WORDS: Record<RegionExplanation['verdicts'][number]['outcome'], string> = {
  'nothing-to-do': 'nothing to do',
  act: 'acts now',
  'held-back': 'held back',
  'not-eligible': 'not its business',
  off: 'off',
};

export function explanationJson(e: RegionExplanation, enc: Encoding): object {
  return {
    region: regionJson(e.region, enc),
    executing: e.executing,
    running: e.running ?? null,
    patrolledAgoMs: e.patrolledAgoMs ?? null,
    verdicts: e.verdicts,
  };
}

export function renderExplanation(e: RegionExplanation, enc: Encoding): string {
  const { region, leader } = e.region;
  const bound = (k: Buffer, inf: string) => (k.length === 0 ? inf : displayBytes(k, enc));
  const peers = region.peers
    .map((p) => {
      const bits = [
        p.role === PeerRole.Voter ? 'voter' : p.role === PeerRole.Learner ? 'learner' : p.role,
      ];
      if (leader?.id === p.id) bits.push('leader');
      return `${p.id}@store ${p.storeId} (${bits.join(', ')})`;
    })
    .join(', ');
  const out = [
    `Region ${region.id} [${bound(region.startKey, '-inf')}, ${bound(region.endKey, '+inf')})` +
      `, conf_ver ${region.epoch.confVer}, version ${region.epoch.version}`,
    `  peers: ${peers}`,
    `  leader: ${leader ? `peer ${leader.id} on store ${leader.storeId}` : 'none reported yet'}`,
  ];
  if (e.running) {
    const r = e.running;
    out.push(
      `  running operator ${r.id}: ${r.desc} (${r.kind}, ${r.priority} priority, ` +
        `${Math.round(r.ageMs / 100) / 10}s old)`,
    );
    r.steps.forEach((s, i) =>
      out.push(
        `    ${i < r.currentStep ? 'done' : i === r.currentStep ? 'now ' : '    '} ${i + 1}. ${s}`,
      ),
    );
  } else {
    out.push('  running operator: none');
  }
  out.push(
    e.patrolledAgoMs === undefined
      ? '  the patrol has not reached it since PD started'
      : `  last patrolled ${(e.patrolledAgoMs / 1000).toFixed(1)}s ago`,
  );
  if (!e.executing)
    out.push('  note: this PD has no operator controller; it decides but starts no operator');
  for (const v of e.verdicts) {
    out.push('', `${v.source}: ${OUTCOME_WORDS[v.outcome]}`, `  ${v.summary}`);
    v.steps.forEach((s, i) =>
      out.push(`  ${i === 0 ? 'would run:' : '          '} ${i + 1}. ${s}`),
    );
    for (const d of v.details) out.push(`    · ${d}`);
  }
  return out.join('\n');
}
