import { describe, expect, it } from 'vitest';
import { longestScheduleGap, missedScheduleWindow } from '../../infra/missedSchedule.ts';

const MIN = 60;
const HOUR = 3600;
const DAY = 86_400;

describe('Function: longestScheduleGap', () => {
  it.each([
    ['rate(1 minute)', MIN],
    ['rate(5 minutes)', 5 * MIN],
    ['rate(2 hours)', 2 * HOUR],
    ['rate(1 day)', DAY],
  ])('takes the interval of %s', (expression, seconds) => {
    // Act & Assess
    expect(longestScheduleGap(expression)).toBe(seconds);
  });

  it.each([
    ['cron(0/15 * * * ? *)', 15 * MIN],
    ['cron(*/10 * * * ? *)', 10 * MIN],
    ['cron(0 * * * ? *)', HOUR],
    ['cron(0,30 8-17 * * ? *)', 14.5 * HOUR],
    ['cron(0 2 * * ? *)', DAY],
    ['cron(0 9 ? * MON-FRI *)', 3 * DAY],
    ['cron(0 9 ? * 2-6 *)', 3 * DAY],
    ['cron(30 6,18 ? * SUN,WED *)', 3 * DAY + 12 * HOUR],
    ['cron(0 3 ? * MON *)', 7 * DAY],
  ])('works out the longest gap of %s over a week', (expression, seconds) => {
    // Act & Assess
    expect(longestScheduleGap(expression)).toBe(seconds);
  });

  it.each([
    'at(2026-01-01T00:00:00)',
    'cron(0 0 1 * ? *)',
    'cron(0 0 L * ? *)',
    'cron(0 0 ? * 6#3 *)',
    'cron(0 0 * 1-6 ? *)',
    'cron(0 0 * * ? 2027)',
    'cron(61 * * * ? *)',
    'cron(0 5-2 * * ? *)',
    'cron(0 * * * *)',
  ])('gives up on %s, whose gaps vary or which is not a recurring schedule', (expression) => {
    // Act & Assess
    expect(longestScheduleGap(expression)).toBeUndefined();
  });
});

describe('Function: missedScheduleWindow', () => {
  const window = (expression: string) => {
    const w = missedScheduleWindow(expression);
    return w && { period: w.period.toSeconds(), periods: w.periods };
  };

  it('looks back over periods of the schedule interval that span two intervals, plus the one filling', () => {
    // Act & Assess
    expect(window('rate(5 minutes)')).toEqual({ period: 5 * MIN, periods: 3 });
    expect(window('rate(15 minutes)')).toEqual({ period: 15 * MIN, periods: 3 });
    expect(window('rate(6 hours)')).toEqual({ period: 6 * HOUR, periods: 3 });
    expect(window('rate(1 day)')).toEqual({ period: DAY, periods: 3 });
  });

  it('uses periods of at least 5 minutes, so that late metrics do not look like missed runs', () => {
    // Act & Assess
    expect(window('rate(1 minute)')).toEqual({ period: 5 * MIN, periods: 2 });
    expect(window('rate(3 minutes)')).toEqual({ period: 5 * MIN, periods: 3 });
  });

  it('uses daily periods for gaps longer than a day', () => {
    // Act & Assess
    expect(window('rate(2 days)')).toEqual({ period: DAY, periods: 5 });
    // Weekdays only: the weekend is the longest gap, no alarm on Monday morning.
    expect(window('cron(0 9 ? * MON-FRI *)')).toEqual({ period: DAY, periods: 7 });
  });

  it('keeps every window within what CloudWatch evaluates (a day under hourly periods, else seven days)', () => {
    // Act
    const expressions = ['rate(1 minute)', 'rate(59 minutes)', 'rate(1 hour)', 'rate(3 days)'];
    // Assess
    for (const expression of expressions) {
      const w = missedScheduleWindow(expression)!;
      const span = w.period.toSeconds() * w.periods;
      expect(span).toBeLessThanOrEqual(w.period.toSeconds() < HOUR ? DAY : 7 * DAY);
      // The whole periods before the newest one span at least two of the longest gaps.
      expect(w.period.toSeconds() * (w.periods - 1)).toBeGreaterThanOrEqual(2 * w.longestGap.toSeconds());
    }
  });

  it('gives no window when the ticks are more than three days apart or cannot be worked out', () => {
    // Act & Assess
    expect(missedScheduleWindow('rate(4 days)')).toBeUndefined();
    expect(missedScheduleWindow('cron(0 3 ? * MON *)')).toBeUndefined();
    expect(missedScheduleWindow('cron(0 0 1 * ? *)')).toBeUndefined();
    expect(missedScheduleWindow('at(2026-01-01T00:00:00)')).toBeUndefined();
  });
});
