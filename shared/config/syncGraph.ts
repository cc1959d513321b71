import type { SyncConfig } from './schema.ts';

/**
 * The syncs in dependency order: every parent before its children. Returns the cycles found
 * instead when there are any (each as the chain of names, `a → b → a`).
 */
export function orderSyncs(syncs: readonly SyncConfig[]): { order: SyncConfig[]; cycles: string[][] } {
  const byName = new Map(syncs.map((s) => [s.name, s]));
  const order: SyncConfig[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const cycles: string[][] = [];
  const visit = (s: SyncConfig, path: string[]): void => {
    const st = state.get(s.name);
    if (st === 'done') return;
    if (st === 'visiting') {
      cycles.push([...path.slice(path.indexOf(s.name)), s.name]);
      return;
    }
    state.set(s.name, 'visiting');
    const parent = s.parent ? byName.get(s.parent.sync) : undefined;
    if (parent) visit(parent, [...path, s.name]);
    state.set(s.name, 'done');
    order.push(s);
  };
  for (const s of syncs) visit(s, []);
  return { order, cycles };
}
