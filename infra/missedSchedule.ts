import { Duration } from 'aws-cdk-lib';
import { rateSeconds } from '../shared/config/schedule.ts';

/**
 * How the missed-schedule alarm of a sync looks back: `periods` consecutive periods of `period`,
 * each without a started run, put it in ALARM.
 */
export interface MissedScheduleWindow {
  /** Longest time between two ticks of the schedule. */
  readonly longestGap: Duration;
  /** Alarm period: the longest gap, at least 5 minutes (EMF metrics arrive with some delay), at most a day. */
  readonly period: Duration;
  /** Evaluation periods, all of which must be empty: together they span more than two longest gaps. */
  readonly periods: number;
}

const MIN_PERIOD_S = 300;
const MAX_PERIOD_S = 86_400;

/**
 * The look-back window of the missed-schedule alarm, or undefined when CloudWatch cannot look back
 * far enough or the schedule's gaps cannot be worked out.
 *
 * Every period of the window but the newest one (which may still be filling) is a whole period, and
 * together they span at least two of the schedule's longest gaps: an empty window means at least
 * one tick, usually two, did not start a run, never just a run that was a little late or a period
 * boundary that fell between two ticks. CloudWatch evaluates at most one day for periods under an
 * hour and seven days otherwise, so schedules whose ticks are more than three days apart get no
 * window.
 */
export function missedScheduleWindow(expression: string): MissedScheduleWindow | undefined {
  const gap = longestScheduleGap(expression);
  if (gap === undefined) return undefined;
  const period = Math.min(MAX_PERIOD_S, Math.max(MIN_PERIOD_S, Math.ceil(gap / 60) * 60));
  const periods = Math.max(2, Math.ceil((2 * gap) / period) + 1);
  const limit = period < 3600 ? 86_400 : 604_800;
  if (period * periods > limit) return undefined;
  return { longestGap: Duration.seconds(gap), period: Duration.seconds(period), periods };
}

/**
 * Longest time in seconds between two consecutive ticks of an EventBridge Scheduler expression:
 * the interval of `rate(…)`; for `cron(…)`, worked out over a week when the month and year fields
 * are `*` and the day-of-month field is `*` or `?` (every day, or some days of the week). Undefined
 * for `at(…)` (one tick) and for crons on days of the month or months, whose gaps vary by month.
 */
export function longestScheduleGap(expression: string): number | undefined {
  const rate = rateSeconds(expression);
  if (rate !== undefined) return rate;
  const cron = /^cron\((.+)\)$/.exec(expression.trim());
  if (!cron) return undefined;
  const fields = cron[1]!.trim().split(/\s+/);
  if (fields.length !== 6) return undefined;
  const [minuteField, hourField, domField, monthField, dowField, yearField] = fields as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  if (monthField !== '*' || yearField !== '*' || !['*', '?'].includes(domField)) return undefined;
  const minutes = expandField(minuteField, 0, 59);
  const hours = expandField(hourField, 0, 23);
  // Scheduler's day-of-week: 1 = SUN … 7 = SAT.
  const days = ['*', '?'].includes(dowField) ? [1, 2, 3, 4, 5, 6, 7] : expandField(dowField, 1, 7, DAY_NAMES);
  if (!minutes?.length || !hours?.length || !days?.length) return undefined;
  const week = 7 * 1440;
  const ticks: number[] = [];
  for (const d of days)
    for (const h of hours) for (const m of minutes) ticks.push((d - 1) * 1440 + h * 60 + m);
  ticks.sort((a, b) => a - b);
  let longest = ticks[0]! + week - ticks[ticks.length - 1]!;
  for (let i = 1; i < ticks.length; i++) longest = Math.max(longest, ticks[i]! - ticks[i - 1]!);
  return longest * 60;
}

const DAY_NAMES: Readonly<Record<string, number>> = {
  SUN: 1,
  MON: 2,
  TUE: 3,
  WED: 4,
  THU: 5,
  FRI: 6,
  SAT: 7,
};

/**
 * The values of one cron field: `*`, `n`, `a-b`, `*∕s`, `a∕s`, `a-b∕s` and lists of them. Undefined
 * for anything else (`L`, `W`, `#`) or a value out of range.
 */
function expandField(
  field: string,
  min: number,
  max: number,
  names: Readonly<Record<string, number>> = {},
): number[] | undefined {
  const values = new Set<number>();
  const value = (text: string): number | undefined => {
    const n = names[text.toUpperCase()] ?? (/^\d+$/.test(text) ? Number(text) : undefined);
    return n !== undefined && n >= min && n <= max ? n : undefined;
  };
  for (const part of field.split(',')) {
    const match = /^([^/]+)(?:\/(\d+))?$/.exec(part);
    if (!match) return undefined;
    const [, range, stepText] = match;
    const step = stepText === undefined ? 1 : Number(stepText);
    if (step < 1) return undefined;
    let from: number | undefined;
    let to: number | undefined;
    if (range === '*') [from, to] = [min, max];
    else if (range!.includes('-')) {
      const ends = range!.split('-');
      if (ends.length !== 2) return undefined;
      [from, to] = [value(ends[0]!), value(ends[1]!)];
    } else {
      from = value(range!);
      to = stepText === undefined ? from : max;
    }
    if (from === undefined || to === undefined || from > to) return undefined;
    for (let v = from; v <= to; v += step) values.add(v);
  }
  return [...values];
}
