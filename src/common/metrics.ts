// What the Prometheus metrics of every NyxDB process share.

/** Histogram buckets (seconds) for request and Raft latencies: 100 µs to 2.5 s. */
export const LATENCY_BUCKETS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
];
