// Cycle search over the dependency graph, by the edges each anomaly allows (Adya,
// "Weak Consistency", 1999; Elle §4): G0 is a cycle of ww edges only; G1c a cycle of ww
// and wr edges; G-single a cycle with exactly one rw edge; G2 a cycle with more rw
// edges (allowed under snapshot isolation, so only counted). A cycle is reported with
// its edges, shortest first, so a failure names the transactions to look at.
import type { DependencyGraph, Edge, EdgeKind } from './dependency_graph.js';

export interface Cycle {
  type: 'G0' | 'G1c' | 'G-single' | 'G2';
  edges: Edge[];
}

/**
 * The shortest path from `from` to `to` over edges of the given kinds (BFS), through
 * nodes `allowed` accepts only (the caller's bound on where such a path can run).
 */
function shortestPath(
  g: DependencyGraph,
  from: number,
  to: number,
  kinds: ReadonlySet<EdgeKind>,
  allowed: (n: number) => boolean,
): Edge[] | undefined {
  const via = new Map<number, Edge | null>([[from, null]]);
  let frontier = [from];
  while (frontier.length > 0) {
    const next: number[] = [];
    for (const n of frontier) {
      for (const e of g.out.get(n) ?? []) {
        if (!kinds.has(e.kind) || via.has(e.to) || !allowed(e.to)) continue;
        via.set(e.to, e);
        if (e.to === to) {
          const path: Edge[] = [];
          for (let cur: Edge | null | undefined = e; cur; cur = via.get(cur.from))
            path.unshift(cur);
          return path;
        }
        next.push(e.to);
      }
    }
    frontier = next;
  }
  return undefined;
}

/**
 * The strongly connected components of the kinds' subgraph (Tarjan, iterative), every
 * node in one, numbered in the order Tarjan completes them: a component reaches only
 * components of a lower number (or itself). Roots are taken newest transaction first, so
 * the numbers mostly run against time, and an edge that points forward in time (most rw
 * edges of a valid history) is seen at once to have no path back (findCycles).
 */
interface Components {
  of: Map<number, number>;
  members: number[][];
}

function components(g: DependencyGraph, kinds: ReadonlySet<EdgeKind>): Components {
  const index = new Map<number, number>();
  const low = new Map<number, number>();
  const onStack = new Set<number>();
  const stack: number[] = [];
  const of = new Map<number, number>();
  const members: number[][] = [];
  let counter = 0;
  for (const root of [...g.nodes].sort((a, b) => b - a)) {
    if (index.has(root)) continue;
    const work: { node: number; edges: Edge[]; i: number }[] = [];
    const open = (n: number): void => {
      index.set(n, counter);
      low.set(n, counter++);
      stack.push(n);
      onStack.add(n);
      work.push({ node: n, edges: (g.out.get(n) ?? []).filter((e) => kinds.has(e.kind)), i: 0 });
    };
    open(root);
    while (work.length > 0) {
      const top = work[work.length - 1]!;
      if (top.i < top.edges.length) {
        const to = top.edges[top.i++]!.to;
        if (!index.has(to)) open(to);
        else if (onStack.has(to)) low.set(top.node, Math.min(low.get(top.node)!, index.get(to)!));
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.node, Math.min(low.get(parent.node)!, low.get(top.node)!));
      if (low.get(top.node) === index.get(top.node)) {
        const scc: number[] = [];
        let n: number;
        do {
          n = stack.pop()!;
          onStack.delete(n);
          of.set(n, members.length);
          scc.push(n);
        } while (n !== top.node);
        members.push(scc);
      }
    }
  }
  return { of, members };
}

/** Edges tried per component for its shortest cycle: one search each, bounded. */
const CYCLE_TRIES = 16;

/**
 * One cycle per strongly connected component of the kinds' subgraph, the shortest of a
 * few tries: every edge inside a component closes a cycle, and a search runs within the
 * component only. (Trying every edge made this quadratic on long histories, whose G2
 * component can hold most of the transactions.)
 */
function cyclesOver(
  g: DependencyGraph,
  kinds: ReadonlySet<EdgeKind>,
  type: Cycle['type'],
): Cycle[] {
  const found: Cycle[] = [];
  const comps = components(g, kinds);
  comps.members.forEach((scc, c) => {
    if (scc.length < 2) return;
    const inside = (n: number) => comps.of.get(n) === c;
    let best: Edge[] | undefined;
    let tries = 0;
    for (const n of scc) {
      for (const e of g.out.get(n) ?? []) {
        if (tries >= CYCLE_TRIES) break;
        if (!kinds.has(e.kind) || !inside(e.to)) continue;
        tries++;
        const back = shortestPath(g, e.to, e.from, kinds, inside);
        if (back && (!best || back.length + 1 < best.length)) best = [e, ...back];
      }
    }
    if (!best) throw new Error('a strongly connected component without a cycle');
    found.push({ type, edges: best });
  });
  return found;
}

const WW = new Set<EdgeKind>(['ww']);
const WW_WR = new Set<EdgeKind>(['ww', 'wr']);
const ALL = new Set<EdgeKind>(['ww', 'wr', 'rw']);

/**
 * The cycles of the graph, classified by the weakest edges they need. A G0 cycle is
 * also a G1c cycle; each is reported once, under its strongest name.
 */
export function findCycles(g: DependencyGraph): Cycle[] {
  const cycles: Cycle[] = [];
  const g0 = cyclesOver(g, WW, 'G0');
  cycles.push(...g0);
  const inG0 = new Set(g0.flatMap((c) => c.edges.map((e) => e.from)));
  for (const c of cyclesOver(g, WW_WR, 'G1c')) {
    if (!c.edges.every((e) => inG0.has(e.from))) cycles.push(c);
  }
  // G-single: an rw edge a -> b closed by a path b -> a without rw edges. Such a path
  // runs through ww/wr components numbered from b's down to a's (components()), so an
  // edge whose b is numbered below a has none, and a search stays within that band.
  const singles = new Set<string>();
  const ordered = components(g, WW_WR);
  for (const edges of g.out.values()) {
    for (const e of edges) {
      if (e.kind !== 'rw') continue;
      const ca = ordered.of.get(e.from)!;
      const cb = ordered.of.get(e.to)!;
      if (cb < ca) continue;
      const band = (n: number) => {
        const c = ordered.of.get(n)!;
        return c >= ca && c <= cb;
      };
      const back = shortestPath(g, e.to, e.from, WW_WR, band);
      if (!back) continue;
      const cycle = [e, ...back];
      const id = cycle
        .map((x) => x.from)
        .sort((a, b) => a - b)
        .join(',');
      if (singles.has(id)) continue;
      singles.add(id);
      cycles.push({ type: 'G-single', edges: cycle });
    }
  }
  // Whatever else cycles needs two or more rw edges: G2, allowed under SI.
  const covered = new Set(cycles.flatMap((c) => c.edges.map((e) => e.from)));
  for (const c of cyclesOver(g, ALL, 'G2')) {
    if (!c.edges.every((e) => covered.has(e.from))) cycles.push(c);
  }
  return cycles;
}

export function describeCycle(c: Cycle): string {
  const path = c.edges.map((e) => `T${e.from} -${e.kind} ${e.key}:${e.value}-> `).join('');
  return `${c.type}: ${path}T${c.edges[0]!.from}`;
}
