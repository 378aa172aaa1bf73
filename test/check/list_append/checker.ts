// Checks a list-append history for the anomalies snapshot isolation forbids (Adya's G0,
// G1a, G1b, G1c and G-single; Elle's list-append inference), plus the impossible reads
// any database forbids (garbage, duplicates, incompatible orders, a transaction not
// seeing its own writes). G2 cycles are allowed under SI and only counted.
import { describeCycle, findCycles, type Cycle } from './cycles.js';
import { buildDependencyGraph, type NonCyclicAnomaly } from './dependency_graph.js';
import type { Txn } from './history.js';

export interface ListAppendResult {
  valid: boolean;
  /** Forbidden anomalies, each in one line. */
  anomalies: string[];
  anomalyTypes: Set<string>;
  /** Allowed (G2) cycles found. */
  g2Count: number;
  cycles: Cycle[];
  nonCyclic: NonCyclicAnomaly[];
  edgeCount: number;
}

export function checkListAppend(history: readonly Txn[]): ListAppendResult {
  const graph = buildDependencyGraph(history);
  const cycles = findCycles(graph);
  const forbidden = cycles.filter((c) => c.type !== 'G2');
  const anomalies = [
    ...graph.anomalies.map((a) => `${a.type}: T${a.txn} key ${a.key}: ${a.detail}`),
    ...forbidden.map(describeCycle),
  ];
  const anomalyTypes = new Set([
    ...graph.anomalies.map((a) => a.type),
    ...forbidden.map((c) => c.type),
  ]);
  let edgeCount = 0;
  for (const l of graph.out.values()) edgeCount += l.length;
  return {
    valid: anomalies.length === 0,
    anomalies,
    anomalyTypes,
    g2Count: cycles.length - forbidden.length,
    cycles,
    nonCyclic: graph.anomalies,
    edgeCount,
  };
}
