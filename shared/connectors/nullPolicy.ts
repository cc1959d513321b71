import type { Payload } from '../config/schema.ts';
import type { NullSemantics } from './Connector.ts';

/**
 * Null semantics per mapped field: one rule for every field, or a default plus per-field rules
 * (`{ default: 'clear', fields: { phone: 'keep' } }`). 'clear' writes the target's empty value
 * (the field is cleared); 'keep' leaves the target's value untouched. A field the map leaves out
 * (undefined) is always left untouched.
 */
export type NullPolicy =
  | NullSemantics
  | { readonly default: NullSemantics; readonly fields?: Readonly<Record<string, NullSemantics>> };

/** The payload with the null fields that must keep the target's value taken out. */
export function applyNullPolicy(payload: Payload, policy: NullPolicy = 'clear'): Payload {
  const rule = (field: string): NullSemantics =>
    typeof policy === 'string' ? policy : (policy.fields?.[field] ?? policy.default);
  const out: Payload = {};
  for (const [k, v] of Object.entries(payload)) {
    if (v === undefined) continue;
    if (v === null && rule(k) === 'keep') continue;
    out[k] = v;
  }
  return out;
}

/** The rule for the fields a policy does not name: what a connector reports as `capabilities.nulls`. */
export function defaultNullRule(policy: NullPolicy): NullSemantics {
  return typeof policy === 'string' ? policy : policy.default;
}
