import { z } from 'zod';
import type { Payload, Row, SyncInput } from '../config/schema.ts';
import { ConfigValidationError } from '../errors.ts';
import type { Normalizer, NormalizerName } from './normalize.ts';
import type { CopySpec, Owner, PairSchema } from './pairSchema.ts';

/** How one app of a pair is read (its copy in the warehouse) and written (its connection). */
export interface TwoWaySide {
  /** The app's short name, lowercase (`hubspot`): the direction writing into it is `<pair>-to-<name>`. */
  readonly name: string;
  readonly connection: string;
  readonly object: string;
  /**
   * The target field Writeback stamps its external id into on records it creates in this app
   * (a HubSpot unique property); omit it for a connector with a field of its own (Xero's ContactNumber).
   */
  readonly externalId?: string;
  /** The app's copy in the warehouse, as ELT loads it; `stamp` is the copy's column of that external id. */
  readonly copy: Omit<CopySpec, 'where'>;
  /** Only these rows of the copy take part (SQL, ANDed into every read). */
  readonly where?: string;
  /** A record deleted in this app is archived in the other (one-way `deletes` of the direction reading it). */
  readonly deletes?: SyncInput['deletes'];
}

/**
 * A field on one side: its column in the side's copy and its name in that app's API (one string
 * when they are the same); or, for a seed-once field, a value computed from the copy's row
 * (`{ value: (row) => …, field }`), and `field` alone on the side that is only written.
 */
export type TwoWayFieldSide =
  | string
  | {
      readonly column?: string;
      readonly value?: (row: Row) => unknown;
      readonly field?: string;
    };

export interface TwoWayField {
  readonly a?: TwoWayFieldSide;
  readonly b?: TwoWayFieldSide;
  /** Who may change the field: side a, side b, or both (then `conflict` decides). */
  readonly owner: 'a' | 'b' | 'both';
  /** Both sides changed a field both own: the newer edit wins (by the apps' modification times), or one side always does. @default 'newer' */
  readonly conflict?: 'newer' | 'a' | 'b';
  /** Written by its owner's direction when it creates the record in the other app, never after. */
  readonly seedOnce?: boolean;
  /** How values compare across the apps. @default 'text' */
  readonly normalize?: NormalizerName | Normalizer;
}

export interface TwoWayInput {
  /** The pair's name, lowercase: `contacts`. */
  readonly name: string;
  readonly a: TwoWaySide;
  readonly b: TwoWaySide;
  readonly fields: Readonly<Record<string, TwoWayField>>;
  /** Schedule of both directions. @default rate(15 minutes) */
  readonly schedule?: string;
  /** Re-read window behind each direction's bookmark. @default 0 */
  readonly lookback?: string | number;
  readonly batchSize?: number;
  readonly concurrency?: number;
  /**
   * Verify both directions: each compares the fields it writes with the other app's copy, matched
   * through the links (docs/two-way.md). `schedule` as a sync's verify. @default off
   */
  readonly verify?: { readonly schedule?: string } | boolean;
}

const Name = z.string().regex(/^[a-z][a-z0-9-]*$/, 'lowercase letters, digits and -');
const TwoWayInputSchema = z.object({
  name: Name,
  a: z.object({ name: Name }).loose(),
  b: z.object({ name: Name }).loose(),
  fields: z.record(
    z.string(),
    z
      .object({
        owner: z.enum(['a', 'b', 'both']),
        conflict: z.enum(['newer', 'a', 'b']).optional(),
      })
      .loose(),
  ),
});

/**
 * A two-way pair: one relationship between two apps, through their copies in the warehouse,
 * returned as its two directions (`<name>-to-<b.name>` reads a's copy and writes b, and
 * `<name>-to-<a.name>` the reverse), to list in `syncs`. The directions share each record's
 * identity through their links (a record one creates is linked in the other at once), write only
 * the fields their side owns, and settle the echo of each other's writes without a call.
 * See docs/two-way.md.
 */
export function defineTwoWay(input: TwoWayInput): [SyncInput, SyncInput] {
  const parsed = TwoWayInputSchema.safeParse(input);
  const where = `twoWay[${typeof input?.name === 'string' ? input.name : '?'}]`;
  if (!parsed.success) {
    throw new ConfigValidationError(
      parsed.error.issues.map((i) => `${where}.${i.path.join('.')}: ${i.message}`),
    );
  }
  const problems: string[] = [];
  if (input.a.name === input.b.name) problems.push(`${where}.b.name: the two sides need different names`);
  for (const [name, f] of Object.entries(input.fields)) {
    const at = `${where}.fields.${name}`;
    if (f.conflict !== undefined && f.owner !== 'both') {
      problems.push(`${at}.conflict: only for a field both sides own (owner: 'both')`);
    }
    for (const side of ['a', 'b'] as const) {
      const from = fieldSide(f[side]);
      const to = fieldSide(f[side === 'a' ? 'b' : 'a']);
      const written = f.owner === 'both' || f.owner === side;
      if (from.value && !f.seedOnce) {
        problems.push(
          `${at}.${side}.value: a computed value is only for a seedOnce field (it cannot be compared)`,
        );
      }
      if (written && to.field === undefined) {
        problems.push(
          `${at}.${side === 'a' ? 'b' : 'a'}.field: required (side ${side} writes this field there)`,
        );
      }
      if (written && from.column === undefined && !from.value) {
        problems.push(`${at}.${side}.column: required (the value side ${side} writes)`);
      }
      if (!f.seedOnce && from.column === undefined) {
        problems.push(`${at}.${side}.column: required (the field is compared in both copies)`);
      }
    }
  }
  if (problems.length > 0) throw new ConfigValidationError(problems);
  const names = { a: `${input.name}-to-${input.b.name}`, b: `${input.name}-to-${input.a.name}` };
  return [direction(input, 'a', names), direction(input, 'b', names)];
}

function direction(input: TwoWayInput, side: 'a' | 'b', names: { a: string; b: string }): SyncInput {
  const other = side === 'a' ? 'b' : 'a';
  const source = input[side];
  const target = input[other];
  const fields = Object.entries(input.fields).map(([name, f]) => {
    const from = fieldSide(f[side]);
    const to = fieldSide(f[other]);
    const owner: Owner = f.owner === 'both' ? 'both' : f.owner === side ? 'source' : 'target';
    const rule = f.conflict ?? 'newer';
    return {
      name,
      ...(from.column ? { column: from.column } : {}),
      ...(from.value ? { value: from.value } : {}),
      ...(to.column ? { targetColumn: to.column } : {}),
      ...(to.field ? { field: to.field } : {}),
      owner,
      conflict:
        rule === 'newer' ? ('newer' as const) : rule === side ? ('source' as const) : ('target' as const),
      seedOnce: f.seedOnce ?? false,
      normalize: f.normalize ?? ('text' as const),
    };
  });
  const pair: z.input<typeof PairSchema> = {
    name: input.name,
    side,
    partner: names[other],
    source: { ...source.copy, ...(source.where ? { where: source.where } : {}) },
    target: { ...target.copy, ...(target.where ? { where: target.where } : {}) },
    fields,
  };
  // The fields a direction may write after the create, for verify and plan (the pair writes only
  // those that changed; see planPairPage).
  const written = fields.filter((f) => f.owner !== 'target' && !f.seedOnce);
  return {
    name: names[side],
    ...(input.schedule ? { schedule: input.schedule } : {}),
    source: {
      table: source.copy.table,
      key: source.copy.key,
      cursor: source.copy.cursor,
      ...(input.lookback !== undefined ? { lookback: input.lookback } : {}),
      ...(source.where ? { where: source.where } : {}),
    },
    target: {
      connection: target.connection,
      object: target.object,
      ...(target.externalId ? { externalId: target.externalId } : {}),
    },
    map: (row) => {
      const payload: Payload = {};
      for (const f of written) if (f.field && f.column) payload[f.field] = row[f.column] ?? null;
      return payload;
    },
    ...(source.deletes ? { deletes: source.deletes } : {}),
    ...(input.batchSize ? { batchSize: input.batchSize } : {}),
    ...(input.concurrency ? { concurrency: input.concurrency } : {}),
    ...(input.verify ? { verify: verifyOf(target.copy, written, input.verify) } : {}),
    pair,
  };
}

/** A direction's verify: the fields it writes, against the other app's copy, matched by target id. */
function verifyOf(
  copy: CopySpec,
  written: readonly { field?: string | undefined; targetColumn?: string | undefined }[],
  opts: { readonly schedule?: string } | true,
) {
  const fields: Record<string, string> = {};
  for (const f of written) if (f.field && f.targetColumn) fields[f.field] = f.targetColumn;
  return {
    table: copy.table,
    targetIdColumn: copy.key,
    externalIdColumn: copy.stamp,
    loadedAtColumn: copy.cursor,
    fields,
    ...(opts !== true && opts.schedule ? { schedule: opts.schedule } : {}),
  };
}

function fieldSide(s: TwoWayFieldSide | undefined): {
  column?: string | undefined;
  value?: ((row: Row) => unknown) | undefined;
  field?: string | undefined;
} {
  if (s === undefined) return {};
  return typeof s === 'string' ? { column: s, field: s } : s;
}
