import { rateSeconds } from '../config/schedule.ts';
import type { SyncConfig } from '../config/schema.ts';
import type { RunRecord } from '../state/RunRecord.ts';

export interface LocalSchedulerOptions {
  readonly syncs: readonly SyncConfig[];
  readonly run: (sync: string) => Promise<RunRecord>;
  /** Overrides every sync's interval (the demo runs faster than production schedules). */
  readonly intervalSeconds?: number;
  /** Interval for cron/at expressions, which the local scheduler does not evaluate. @default 60 */
  readonly fallbackSeconds?: number;
  readonly onRun?: (run: RunRecord) => void;
  readonly onError?: (sync: string, err: unknown) => void;
}

/**
 * Stands in for EventBridge Scheduler: ticks each enabled sync on its rate (first tick at once),
 * never overlaps two runs of one sync, and re-runs immediately while a backlog remains.
 */
export class LocalScheduler {
  private readonly opts: LocalSchedulerOptions;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly active = new Map<string, Promise<void>>();
  private stopped = false;

  public constructor(opts: LocalSchedulerOptions) {
    this.opts = opts;
  }

  /** Seconds between ticks of a sync, as this scheduler will use them. */
  public intervalOf(sync: SyncConfig): number {
    return this.opts.intervalSeconds ?? rateSeconds(sync.schedule) ?? this.opts.fallbackSeconds ?? 60;
  }

  public start(): void {
    for (const sync of this.opts.syncs) {
      if (!sync.enabled) continue;
      const tick = (): void => {
        if (this.stopped || this.active.has(sync.name)) return;
        const p = this.runUntilCaughtUp(sync.name).finally(() => this.active.delete(sync.name));
        this.active.set(sync.name, p);
      };
      tick();
      const timer = setInterval(tick, this.intervalOf(sync) * 1000);
      this.timers.add(timer);
    }
  }

  private async runUntilCaughtUp(name: string): Promise<void> {
    for (;;) {
      try {
        const run = await this.opts.run(name);
        this.opts.onRun?.(run);
        if (!run.backlog || this.stopped) return;
      } catch (err) {
        this.opts.onError?.(name, err);
        return;
      }
    }
  }

  /** Waits for every sync's current run (used to know when the first runs are done). */
  public async idle(): Promise<void> {
    while (this.active.size > 0) await Promise.all(this.active.values());
  }

  public async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    this.timers.clear();
    await Promise.allSettled(this.active.values());
  }
}
