// What the Prometheus metrics of every NyxDB process share.
import { createRequire } from 'node:module';
import { Gauge, type Registry } from 'prom-client';

/** Histogram buckets (seconds) for request and Raft latencies: 100 µs to 2.5 s. */
export const LATENCY_BUCKETS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
];

/**
 * The prefix of prom-client's default process metrics. 'nyx_' gives
 * nyx_process_cpu_seconds_total and nyx_nodejs_heap_size_used_bytes; the old
 * 'nyx_process_' doubled it (nyx_process_process_cpu_seconds_total).
 */
export const DEFAULT_METRICS_PREFIX = 'nyx_';

function packageVersion(): string {
  try {
    const pkg = createRequire(import.meta.url)('../../../package.json') as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/**
 * nyx_build_info{component, version, node_version} 1, as TiKV's tikv_engine_build_info:
 * which binary runs where, for dashboards and for spotting a mixed-version cluster.
 */
export function registerBuildInfo(registry: Registry, component: 'pd' | 'store'): void {
  const g = new Gauge({
    name: 'nyx_build_info',
    help: 'Always 1; the labels say which NyxDB version and Node.js runs this process',
    labelNames: ['component', 'version', 'node_version'] as const,
    registers: [registry],
  });
  g.set({ component, version: packageVersion(), node_version: process.versions.node }, 1);
}
