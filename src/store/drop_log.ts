// Logging of dropped peer input without letting the peer fill the disk with our logs: per
// reason, the first drop of a window is logged in full, the rest only counted, and the
// count is logged with the next line of that reason. Metrics count every drop.

export class DropLog {
  private readonly windows = new Map<string, { until: number; suppressed: number }>();

  constructor(
    private readonly log: (obj: object, msg: string) => void,
    private readonly windowMs = 10_000,
    private readonly now: () => number = () => Date.now(),
  ) {}

  /** Log a drop of `reason` unless one was logged within the window. */
  drop(reason: string, obj: object, msg: string): void {
    const t = this.now();
    const w = this.windows.get(reason);
    if (w && t < w.until) {
      w.suppressed++;
      return;
    }
    this.log({ ...obj, reason, suppressedSinceLast: w?.suppressed ?? 0 }, msg);
    this.windows.set(reason, { until: t + this.windowMs, suppressed: 0 });
  }
}
