import { describe, expect, it } from 'vitest';
import { parseDuration } from '../../../shared/config/duration.ts';
import { isScheduleExpression, rateSeconds } from '../../../shared/config/schedule.ts';

describe('Function: isScheduleExpression', () => {
  it.each([
    'rate(1 minute)',
    'rate(5 minutes)',
    'rate(2 hours)',
    'cron(0/15 * * * ? *)',
    'at(2026-12-01T00:00:00)',
  ])('accepts %s', (expr) => expect(isScheduleExpression(expr)).toBe(true));
  it.each(['rate(1 minutes)', 'rate(2 minute)', 'rate(0 minutes)', 'every 5 minutes', 'cron(* * * *)'])(
    'rejects %s, as EventBridge Scheduler would',
    (expr) => expect(isScheduleExpression(expr)).toBe(false),
  );
  it('gives the interval of a rate expression in seconds', () => {
    expect(rateSeconds('rate(5 minutes)')).toBe(300);
    expect(rateSeconds('rate(1 day)')).toBe(86400);
    expect(rateSeconds('cron(0 * * * ? *)')).toBeUndefined();
  });
});

describe('Function: parseDuration', () => {
  it('reads units into seconds', () => {
    expect(parseDuration('30s')).toBe(30);
    expect(parseDuration('2m')).toBe(120);
    expect(parseDuration('1h')).toBe(3600);
    expect(parseDuration('500ms')).toBe(0.5);
    expect(parseDuration(45)).toBe(45);
  });
  it('returns undefined for malformed input', () => {
    expect(parseDuration('soon')).toBeUndefined();
    expect(parseDuration(-1)).toBeUndefined();
  });
});
