/**
 * EventBridge Scheduler expressions: `rate(5 minutes)`, `cron(0/15 * * * ? *)`, `at(2026-01-01T00:00:00)`.
 * We validate the shape here so a typo fails at `writeback validate`, not at `cdk deploy`.
 */
const RATE = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/;
const CRON = /^cron\((\S+ ){5}\S+\)$/;
const AT = /^at\(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\)$/;

export function isScheduleExpression(expr: string): boolean {
  const rate = RATE.exec(expr);
  if (rate) {
    const n = Number(rate[1]);
    const singular = !rate[2]!.endsWith('s');
    // Scheduler rejects `rate(1 minutes)` and `rate(2 minute)`.
    return n > 0 && (n === 1) === singular;
  }
  return CRON.test(expr) || AT.test(expr);
}

/** Interval in seconds of a `rate(…)` expression; undefined for cron/at (the local scheduler handles those). */
export function rateSeconds(expr: string): number | undefined {
  const rate = RATE.exec(expr);
  if (!rate) return undefined;
  const unit = rate[2]!.replace(/s$/, '');
  return Number(rate[1]) * (unit === 'minute' ? 60 : unit === 'hour' ? 3600 : 86400);
}
