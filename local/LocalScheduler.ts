import { rateSeconds } from '../shared/config/schedule.ts';
import type { SyncConfig } from '../shared/config/schema.ts';
import type { RunRecord } from '../shared/state/RunRecord.ts';

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
 * never overlaps two runs of one sync, re-runs immediately while a backlog remains, and runs
 * children that share their parent's schedule right after the parent, as the deployed stack does.
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

  /** Children that share their enabled parent's interval run right after it, in the same tick. */
  private chainedAfter(sync: SyncConfig): SyncConfig | undefined {
    if (!sync.parent) return undefined;
    const parent = this.opts.syncs.find((s) => s.name === sync.parent!.sync);
    return parent?.enabled && this.intervalOf(parent) === this.intervalOf(sync) ? parent : undefined;
  }

  public start(): void {
    const chained = new Map<string, SyncConfig[]>();
    for (const sync of this.opts.syncs) {
      const parent = sync.enabled ? this.chainedAfter(sync) : undefined;
      if (parent) chained.set(parent.name, [...(chained.get(parent.name) ?? []), sync]);
    }
    const runChain = async (sync: SyncConfig): Promise<void> => {
      await this.runUntilCaughtUp(sync.name);
      for (const child of chained.get(sync.name) ?? []) if (!this.stopped) await runChain(child);
    };
    for (const sync of this.opts.syncs) {
      if (!sync.enabled || this.chainedAfter(sync)) continue;
      const tick = (): void => {
        if (this.stopped || this.active.has(sync.name)) return;
        const p = runChain(sync).finally(() => this.active.delete(sync.name));
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
