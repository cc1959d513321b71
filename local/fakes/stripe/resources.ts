import { randomBytes } from 'node:crypto';

/** A Stripe error body: `{ error: { type, code?, message, param?, doc_url? } }`. */
export function stripeError(type: string, message: string, extra: { code?: string; param?: string } = {}) {
  return {
    error: {
      ...(extra.code
        ? {
            code: extra.code,
            doc_url: `https://stripe.com/docs/error-codes/${extra.code.replace(/_/g, '-')}`,
          }
        : {}),
      message,
      ...(extra.param ? { param: extra.param } : {}),
      type,
    },
  };
}

export class StripeInputError extends Error {
  public readonly body: ReturnType<typeof stripeError>;
  public readonly status: number;
  public constructor(status: number, body: ReturnType<typeof stripeError>) {
    super(body.error.message);
    this.status = status;
    this.body = body;
  }
}

const invalid = (message: string, param: string, code = 'parameter_invalid_string') =>
  new StripeInputError(400, stripeError('invalid_request_error', message, { code, param }));

export const newId = (prefix: string): string =>
  `${prefix}_${randomBytes(10).toString('base64url').slice(0, 14)}`;

/** One object (customer, invoice): current fields, and the snapshots the search index sees. */
export interface StoredObject {
  readonly id: string;
  readonly created: number;
  fields: Record<string, unknown>;
  deleted: boolean;
  /** Content by the time it was written; search sees a snapshot once `searchLagMs` has passed. */
  history: { at: number; fields: Record<string, unknown> }[];
}

const CUSTOMER_PARAMS = new Set([
  'name',
  'email',
  'phone',
  'description',
  'address',
  'shipping',
  'metadata',
  'preferred_locales',
  'tax_exempt',
]);
const INVOICE_CREATE = new Set([
  'customer',
  'description',
  'metadata',
  'collection_method',
  'days_until_due',
  'auto_advance',
  'currency',
  'footer',
]);
const EMAIL = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/;

/** Merges metadata as Stripe does: keys are added or replaced, '' deletes a key, metadata='' clears all. */
function mergeMetadata(current: Record<string, string>, given: unknown): Record<string, string> {
  if (given === undefined) return current;
  if (given === '') return {};
  if (typeof given !== 'object' || given === null)
    throw invalid('Invalid hash', 'metadata', 'parameter_invalid_string');
  const out = { ...current };
  for (const [k, v] of Object.entries(given as Record<string, unknown>)) {
    if (k.length > 40)
      throw invalid(
        `Metadata keys can have up to 40 characters, but you passed in a key that is ${k.length} characters: ${k}`,
        `metadata[${k}]`,
      );
    if (/[[\]]/.test(k)) throw invalid('Metadata keys cannot contain square brackets', 'metadata');
    if (v === '') delete out[k];
    else {
      const s = String(v);
      if (s.length > 500)
        throw invalid(
          `Metadata values can have up to 500 characters, but you passed in a value that is ${s.length} characters.`,
          `metadata[${k}]`,
        );
      out[k] = s;
    }
  }
  if (Object.keys(out).length > 50) throw invalid('You can only set up to 50 metadata keys', 'metadata');
  return out;
}

function checkUnknown(params: Record<string, unknown>, allowed: Set<string>): void {
  for (const k of Object.keys(params)) {
    if (!allowed.has(k) && k !== 'expand') {
      throw new StripeInputError(
        400,
        stripeError('invalid_request_error', `Received unknown parameter: ${k}`, {
          code: 'parameter_unknown',
          param: k,
        }),
      );
    }
  }
}

/** Applies customer create/update params to `fields` (Stripe's rules: '' unsets, metadata merges). */
export function applyCustomerParams(
  fields: Record<string, unknown>,
  params: Record<string, unknown>,
): Record<string, unknown> {
  checkUnknown(params, CUSTOMER_PARAMS);
  const next: Record<string, unknown> = { ...fields };
  for (const [k, v] of Object.entries(params)) {
    if (k === 'metadata' || k === 'expand') continue;
    next[k] = v === '' ? null : v;
  }
  next.metadata = mergeMetadata((fields.metadata as Record<string, string>) ?? {}, params.metadata);
  if (typeof next.email === 'string' && !EMAIL.test(next.email))
    throw invalid(`Invalid email address: ${next.email}`, 'email', 'email_invalid');
  if (typeof next.name === 'string' && next.name.length > 256)
    throw invalid('Invalid string: name is too long (maximum 256 characters)', 'name');
  return next;
}

/** Applies invoice params; `creating` checks the customer and collection settings. */
export function applyInvoiceParams(
  fields: Record<string, unknown>,
  params: Record<string, unknown>,
  creating: boolean,
  customerExists: (id: string) => boolean,
): Record<string, unknown> {
  checkUnknown(
    params,
    creating
      ? INVOICE_CREATE
      : new Set([...INVOICE_CREATE].filter((k) => k !== 'customer' && k !== 'currency')),
  );
  if (!creating && fields.status !== 'draft' && Object.keys(params).some((k) => k !== 'metadata')) {
    throw invalid(
      'You can only update the metadata of an invoice that is not a draft.',
      'status',
      'invoice_not_editable',
    );
  }
  const next: Record<string, unknown> = { ...fields };
  for (const [k, v] of Object.entries(params)) {
    if (k === 'metadata' || k === 'expand') continue;
    next[k] = v === '' ? null : v;
  }
  if (creating) {
    if (typeof params.customer !== 'string' || params.customer === '') {
      throw new StripeInputError(
        400,
        stripeError('invalid_request_error', 'Missing required param: customer.', {
          code: 'parameter_missing',
          param: 'customer',
        }),
      );
    }
    if (!customerExists(params.customer)) {
      throw new StripeInputError(
        400,
        stripeError('invalid_request_error', `No such customer: '${params.customer}'`, {
          code: 'resource_missing',
          param: 'customer',
        }),
      );
    }
  }
  next.collection_method ??= 'charge_automatically';
  if (
    next.collection_method === 'send_invoice' &&
    (next.days_until_due === undefined || next.days_until_due === null)
  ) {
    throw invalid('Missing required param: days_until_due.', 'days_until_due', 'parameter_missing');
  }
  if (next.days_until_due !== undefined && next.days_until_due !== null)
    next.days_until_due = Number(next.days_until_due);
  if (typeof next.auto_advance === 'string') next.auto_advance = next.auto_advance === 'true';
  next.metadata = mergeMetadata((fields.metadata as Record<string, string>) ?? {}, params.metadata);
  return next;
}

export function customerView(o: StoredObject): Record<string, unknown> {
  if (o.deleted) return { id: o.id, object: 'customer', deleted: true };
  return {
    id: o.id,
    object: 'customer',
    address: null,
    balance: 0,
    created: Math.floor(o.created / 1000),
    currency: null,
    delinquent: false,
    description: null,
    email: null,
    livemode: false,
    name: null,
    phone: null,
    preferred_locales: [],
    shipping: null,
    tax_exempt: 'none',
    ...o.fields,
  };
}

export function invoiceView(o: StoredObject): Record<string, unknown> {
  if (o.deleted) return { id: o.id, object: 'invoice', deleted: true };
  return {
    id: o.id,
    object: 'invoice',
    amount_due: 0,
    amount_paid: 0,
    auto_advance: false,
    created: Math.floor(o.created / 1000),
    currency: 'usd',
    description: null,
    livemode: false,
    status: 'draft',
    total: 0,
    ...o.fields,
  };
}

/**
 * Stripe's search query language, the part a writer uses: clauses `field:'value'` and
 * `metadata['key']:'value'` joined by AND. Returns a predicate, or the message of a 400.
 */
export function parseSearchQuery(query: string): ((fields: Record<string, unknown>) => boolean) | string {
  const clauses = query.split(/\s+AND\s+/);
  const tests: ((f: Record<string, unknown>) => boolean)[] = [];
  for (const c of clauses) {
    const meta = /^metadata\[['"]([^'"]+)['"]\]:['"](.*)['"]$/.exec(c.trim());
    if (meta) {
      const [, key, value] = meta;
      tests.push((f) => (f.metadata as Record<string, string> | undefined)?.[key!] === value);
      continue;
    }
    const field = /^(\w+):['"](.*)['"]$/.exec(c.trim());
    if (field) {
      const [, name, value] = field;
      tests.push((f) => String(f[name!] ?? '').toLowerCase() === value!.toLowerCase());
      continue;
    }
    return `Invalid query: could not parse the clause ${c}`;
  }
  return (f) => tests.every((t) => t(f));
}
