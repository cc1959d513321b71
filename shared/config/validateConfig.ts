import type { z } from 'zod';
import type { ConnectorDefinition } from '../connectors/ConnectorDefinition.ts';
import { registerConnectors } from '../connectors/registry.ts';
import { ConfigValidationError } from '../errors.ts';
import { ConfigSchema, type WritebackConfig } from './schema.ts';
import { orderSyncs } from './syncGraph.ts';

/**
 * Validates a config object and returns it with defaults applied. Every problem is
 * reported at once, each as a path a user can find in their file:
 * `syncs[crm-customers].source.cursor: required`.
 */
export function validateConfig(input: unknown): WritebackConfig {
  // The user's connectors first: their connections are parsed by their schemas.
  const registered = registerConnectors(ownConnectors(input));
  const parsed = ConfigSchema.safeParse(input);
  if (!parsed.success) {
    throw new ConfigValidationError([
      ...registered,
      ...parsed.error.issues.map((i) => formatIssue(i, input)),
    ]);
  }
  const config = parsed.data;
  const errors: string[] = [...registered];
  const seen = new Set<string>();
  for (const sync of config.syncs) {
    if (seen.has(sync.name)) errors.push(`syncs[${sync.name}].name: duplicate sync name`);
    seen.add(sync.name);
    if (!(sync.target.connection in config.connections)) {
      const known = Object.keys(config.connections).join(', ') || 'none';
      errors.push(
        `syncs[${sync.name}].target.connection: unknown connection '${sync.target.connection}' (known: ${known})`,
      );
    }
  }
  for (const sync of config.syncs) {
    if (sync.target.associate && !sync.parent) {
      errors.push(`syncs[${sync.name}].target.associate: needs a parent (the records to associate with)`);
    }
    if (!sync.parent) continue;
    if (sync.parent.sync === sync.name) {
      errors.push(`syncs[${sync.name}].parent.sync: a sync cannot be its own parent`);
    } else if (!seen.has(sync.parent.sync)) {
      errors.push(
        `syncs[${sync.name}].parent.sync: unknown sync '${sync.parent.sync}' (known: ${[...seen].join(', ')})`,
      );
    }
  }
  errors.push(...pairProblems(config.syncs));
  for (const cycle of orderSyncs(config.syncs).cycles) {
    if (cycle.length > 2) errors.push(`syncs[${cycle[0]}].parent: cycle ${cycle.join(' → ')}`);
  }
  if (errors.length > 0) throw new ConfigValidationError(errors);
  return config;
}

/** The two directions of each pair must name each other, read each other's target and stay flat. */
function pairProblems(syncs: WritebackConfig['syncs']): string[] {
  const byName = new Map(syncs.map((s) => [s.name, s]));
  const problems: string[] = [];
  for (const sync of syncs) {
    const pair = sync.pair;
    if (!pair) continue;
    const at = `syncs[${sync.name}].pair`;
    const partner = byName.get(pair.partner);
    if (!partner?.pair) {
      problems.push(
        `${at}.partner: the other direction '${pair.partner}' is not among the syncs (list both syncs defineTwoWay returns)`,
      );
    } else if (
      partner.pair.partner !== sync.name ||
      partner.pair.name !== pair.name ||
      partner.pair.side === pair.side
    ) {
      problems.push(`${at}.partner: '${pair.partner}' is not the other direction of pair '${pair.name}'`);
    }
    if (sync.parent || sync.children) problems.push(`${at}: a two-way pair cannot have a parent or children`);
  }
  return problems;
}

function ownConnectors(input: unknown): ConnectorDefinition[] {
  const list = isObject(input) ? input.connectors : undefined;
  if (!Array.isArray(list)) return [];
  return list.filter(
    (d): d is ConnectorDefinition =>
      isObject(d) && typeof d.type === 'string' && typeof d.create === 'function',
  );
}

function formatIssue(issue: z.core.$ZodIssue, input: unknown): string {
  let path = '';
  let node: unknown = input;
  for (const [i, seg] of issue.path.entries()) {
    node = isObject(node) ? (node as Record<PropertyKey, unknown>)[seg as PropertyKey] : undefined;
    if (typeof seg === 'number') {
      // Name array elements by their `name` when they have one: syncs[crm-customers], not syncs[0].
      const name = isObject(node) && typeof node.name === 'string' && node.name ? node.name : String(seg);
      path += `[${name}]`;
    } else {
      path += i === 0 ? String(seg) : `.${String(seg)}`;
    }
  }
  const missing = issue.code === 'invalid_type' && node === undefined;
  return `${path || '(root)'}: ${missing ? 'required' : issue.message}`;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}
