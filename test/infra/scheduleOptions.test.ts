import { describe, expect, it } from 'vitest';
import { ConfigValidationError } from '../../shared/errors.ts';
import { buildStack, syncInput, testConfig } from './stackFixture.ts';

describe('Schedule options: time zone and flexible window, one line of config each', () => {
  const config = testConfig([
    syncInput('contacts', {
      schedule: 'cron(0 6 * * ? *)',
      timezone: 'Europe/London',
      flexibleWindow: '15m',
    }),
    syncInput('deals'),
  ]);
  const { template } = buildStack(config);
  const schedules = Object.values(template.findResources('AWS::Scheduler::Schedule'));
  const of = (name: string) =>
    schedules.find((s) => String(s.Properties.Description).startsWith(`Writeback ${name}:`))!;

  it('sets the time zone and a flexible window in minutes', () => {
    expect(of('contacts').Properties).toMatchObject({
      ScheduleExpression: 'cron(0 6 * * ? *)',
      ScheduleExpressionTimezone: 'Europe/London',
      FlexibleTimeWindow: { Mode: 'FLEXIBLE', MaximumWindowInMinutes: 15 },
    });
  });

  it('keeps UTC and no window by default', () => {
    expect(of('deals').Properties.ScheduleExpressionTimezone ?? 'Etc/UTC').toBe('Etc/UTC');
    expect(of('deals').Properties.FlexibleTimeWindow).toEqual({ Mode: 'OFF' });
  });

  it('rejects an unknown time zone, naming the sync and the field', () => {
    expect(() => testConfig([syncInput('contacts', { timezone: 'Europe/Londn' })])).toThrow(
      ConfigValidationError,
    );
    try {
      testConfig([syncInput('contacts', { timezone: 'Europe/Londn' })]);
    } catch (err) {
      expect((err as ConfigValidationError).errors).toEqual([
        'syncs[contacts].timezone: expected an IANA time zone such as Europe/London',
      ]);
    }
  });
});
