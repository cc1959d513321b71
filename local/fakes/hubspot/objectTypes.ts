/**
 * The HubSpot fake's model of CRM object types and their property definitions, and the value
 * validation HubSpot applies on writes. Shapes follow the CRM v3 Properties API (`name`, `type`,
 * `hasUniqueValue`, `options`, `modificationMetadata.readOnlyValue`); validation results follow the
 * `Property values were not valid: [{isValid,message,error,name,localizedErrorMessage}]` messages
 * HubSpot returns with `category: VALIDATION_ERROR`.
 */

/** HubSpot property data types (Properties API `type`). */
export type HubSpotPropertyType = 'string' | 'number' | 'enumeration' | 'bool' | 'date' | 'datetime';

export interface FakePropertyDefinition {
  readonly name: string;
  /** @default 'string' */
  readonly type?: HubSpotPropertyType;
  /** A unique property can be used as `idProperty` and refuses a value another record holds. */
  readonly hasUniqueValue?: boolean;
  /** Allowed values of an enumeration. */
  readonly options?: readonly string[];
  /** Set by HubSpot only (hs_object_id, createdate…): writing it is a validation error. */
  readonly readOnlyValue?: boolean;
  /** 'email': the value must be an email address (HubSpot's contact `email` property). */
  readonly validation?: 'email';
}

export interface FakeObjectTypeOptions {
  /** Extra properties (a bare name is a string property). Merged over the built-in definitions. */
  readonly properties?: readonly (string | FakePropertyDefinition)[];
  /**
   * Names of the properties marked `hasUniqueValue` (created as string properties when not defined);
   * replaces the built-in set (contacts: email and dwh_customer_id; others: none).
   */
  readonly uniqueProperties?: readonly string[];
  /** objectTypeId for a custom object (e.g. 2-1234567); built-ins have their own (contacts 0-1). */
  readonly objectTypeId?: string;
}

/** A resolved object type: what the fake validates writes against. */
export interface ObjectTypeModel {
  /** Plural API name (contacts, companies…) or the custom object's name. */
  readonly name: string;
  /** 0-1 for contacts, 0-2 companies… */
  readonly objectTypeId: string;
  /** Singular label used in error messages (Contact, Company…). */
  readonly label: string;
  readonly properties: Map<
    string,
    Required<Pick<FakePropertyDefinition, 'name' | 'type'>> & FakePropertyDefinition
  >;
  /** Property holding the last-modified time (contacts: lastmodifieddate, others: hs_lastmodifieddate). */
  readonly modifiedProperty: string;
  /** Properties returned when a read names none. */
  readonly defaultProperties: readonly string[];
}

const READ_ONLY = (name: string, type: HubSpotPropertyType = 'datetime'): FakePropertyDefinition => ({
  name,
  type,
  readOnlyValue: true,
});

interface BuiltIn {
  readonly objectTypeId: string;
  readonly label: string;
  readonly modifiedProperty: string;
  readonly defaultProperties: readonly string[];
  readonly properties: readonly (string | FakePropertyDefinition)[];
}

const LIFECYCLE_STAGES = [
  'subscriber',
  'lead',
  'marketingqualifiedlead',
  'salesqualifiedlead',
  'opportunity',
  'customer',
  'evangelist',
  'other',
];

/** Built-in object types with a realistic subset of their standard properties. */
const BUILT_INS: Record<string, BuiltIn> = {
  contacts: {
    objectTypeId: '0-1',
    label: 'Contact',
    modifiedProperty: 'lastmodifieddate',
    defaultProperties: ['createdate', 'email', 'firstname', 'hs_object_id', 'lastmodifieddate', 'lastname'],
    properties: [
      { name: 'email', hasUniqueValue: true, validation: 'email' },
      { name: 'dwh_customer_id', hasUniqueValue: true },
      'firstname',
      'lastname',
      'phone',
      'mobilephone',
      'company',
      'jobtitle',
      'website',
      'address',
      'city',
      'state',
      'zip',
      'country',
      { name: 'lifecyclestage', type: 'enumeration', options: LIFECYCLE_STAGES },
      READ_ONLY('lastmodifieddate'),
    ],
  },
  companies: {
    objectTypeId: '0-2',
    label: 'Company',
    modifiedProperty: 'hs_lastmodifieddate',
    defaultProperties: ['createdate', 'domain', 'hs_lastmodifieddate', 'hs_object_id', 'name'],
    properties: [
      'name',
      'domain',
      'phone',
      'city',
      'state',
      'country',
      'industry',
      'website',
      'description',
      'hubspot_owner_id',
      { name: 'numberofemployees', type: 'number' },
      { name: 'annualrevenue', type: 'number' },
      { name: 'lifecyclestage', type: 'enumeration', options: LIFECYCLE_STAGES },
      READ_ONLY('hs_lastmodifieddate'),
    ],
  },
  deals: {
    objectTypeId: '0-3',
    label: 'Deal',
    modifiedProperty: 'hs_lastmodifieddate',
    defaultProperties: [
      'amount',
      'closedate',
      'createdate',
      'dealname',
      'dealstage',
      'hs_lastmodifieddate',
      'hs_object_id',
      'pipeline',
    ],
    properties: [
      'dealname',
      { name: 'amount', type: 'number' },
      'dealstage',
      'pipeline',
      { name: 'closedate', type: 'datetime' },
      'deal_currency_code',
      'description',
      'hubspot_owner_id',
      { name: 'hs_priority', type: 'enumeration', options: ['low', 'medium', 'high'] },
      READ_ONLY('hs_lastmodifieddate'),
    ],
  },
  tickets: {
    objectTypeId: '0-5',
    label: 'Ticket',
    modifiedProperty: 'hs_lastmodifieddate',
    defaultProperties: [
      'content',
      'createdate',
      'hs_lastmodifieddate',
      'hs_object_id',
      'hs_pipeline',
      'hs_pipeline_stage',
      'hs_ticket_category',
      'hs_ticket_priority',
      'subject',
    ],
    properties: [
      'subject',
      'content',
      'hs_pipeline',
      'hs_pipeline_stage',
      'hs_ticket_category',
      { name: 'hs_ticket_priority', type: 'enumeration', options: ['LOW', 'MEDIUM', 'HIGH', 'URGENT'] },
      READ_ONLY('hs_lastmodifieddate'),
    ],
  },
  products: {
    objectTypeId: '0-7',
    label: 'Product',
    modifiedProperty: 'hs_lastmodifieddate',
    defaultProperties: ['createdate', 'description', 'hs_lastmodifieddate', 'hs_object_id', 'name', 'price'],
    properties: [
      'name',
      'description',
      { name: 'price', type: 'number' },
      'hs_sku',
      READ_ONLY('hs_lastmodifieddate'),
    ],
  },
  line_items: {
    objectTypeId: '0-8',
    label: 'Line item',
    modifiedProperty: 'hs_lastmodifieddate',
    defaultProperties: [
      'amount',
      'createdate',
      'hs_lastmodifieddate',
      'hs_object_id',
      'hs_product_id',
      'name',
      'price',
      'quantity',
    ],
    properties: [
      'name',
      { name: 'quantity', type: 'number' },
      { name: 'price', type: 'number' },
      { name: 'amount', type: 'number' },
      'hs_product_id',
      'hs_sku',
      'description',
      { name: 'discount', type: 'number' },
      { name: 'hs_discount_percentage', type: 'number' },
      { name: 'tax', type: 'number' },
      'hs_line_item_currency_code',
      { name: 'hs_position_on_quote', type: 'number' },
      READ_ONLY('hs_lastmodifieddate'),
    ],
  },
};

function normalise(
  def: string | FakePropertyDefinition,
): FakePropertyDefinition & { type: HubSpotPropertyType } {
  if (typeof def === 'string') return { name: def, type: 'string' };
  return { ...def, type: def.type ?? 'string' };
}

/**
 * Builds the object type models: the built-ins (contacts, companies, deals, tickets, products,
 * line_items), with the caller's extra properties and unique properties, plus any custom types
 * named in `objects`.
 */
export function buildObjectTypes(
  objects: Readonly<Record<string, FakeObjectTypeOptions>> = {},
): ObjectTypeModel[] {
  const names = new Set([...Object.keys(BUILT_INS), ...Object.keys(objects)]);
  const models: ObjectTypeModel[] = [];
  let customSeq = 0;
  for (const name of names) {
    const builtIn = BUILT_INS[name];
    const opts = objects[name] ?? {};
    const properties: ObjectTypeModel['properties'] = new Map();
    const add = (def: string | FakePropertyDefinition) => {
      const d = normalise(def);
      properties.set(d.name, { ...properties.get(d.name), ...d });
    };
    add({ name: 'hs_object_id', type: 'number', hasUniqueValue: true, readOnlyValue: true });
    add(READ_ONLY('createdate'));
    for (const p of builtIn?.properties ?? [READ_ONLY('hs_lastmodifieddate')]) add(p);
    for (const p of opts.properties ?? []) add(p);
    if (opts.uniqueProperties !== undefined) {
      // The caller's set replaces the built-in one (hs_object_id stays unique).
      for (const [n, d] of properties)
        if (n !== 'hs_object_id') properties.set(n, { ...d, hasUniqueValue: false });
      for (const u of opts.uniqueProperties) {
        const existing = properties.get(u);
        properties.set(u, { ...(existing ?? { name: u, type: 'string' as const }), hasUniqueValue: true });
      }
    }
    customSeq += builtIn ? 0 : 1;
    models.push({
      name,
      objectTypeId: opts.objectTypeId ?? builtIn?.objectTypeId ?? `2-${1000000 + customSeq}`,
      label: builtIn?.label ?? name,
      properties,
      modifiedProperty: builtIn?.modifiedProperty ?? 'hs_lastmodifieddate',
      defaultProperties: builtIn?.defaultProperties ?? ['createdate', 'hs_lastmodifieddate', 'hs_object_id'],
    });
  }
  return models;
}

/** One entry of HubSpot's "Property values were not valid: [...]" list. */
export interface PropertyValidationResult {
  readonly isValid: false;
  readonly message: string;
  readonly error: string;
  readonly name: string;
  readonly localizedErrorMessage: string;
}

function invalid(name: string, error: string, message: string): PropertyValidationResult {
  return { isValid: false, message, error, name, localizedErrorMessage: message };
}

/** Deliberately simple: local@domain.tld, no spaces, one @ (HubSpot rejects e.g. "x@y" and "a b@c.com"). */
const EMAIL = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)*\.[A-Za-z]{2,}$/;
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const ISO_DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;

/**
 * Validates one value against its property definition. `value` is the raw JSON value the client
 * sent; HubSpot accepts strings, numbers and booleans and stores them as strings. An empty string
 * clears the property and is always valid for a writable property.
 */
export function validateValue(
  model: ObjectTypeModel,
  name: string,
  value: unknown,
  allowUnknown: boolean,
): PropertyValidationResult | undefined {
  const def = model.properties.get(name);
  if (def === undefined) {
    return allowUnknown
      ? undefined
      : invalid(name, 'PROPERTY_DOESNT_EXIST', `Property "${name}" does not exist`);
  }
  if (def.readOnlyValue) {
    return invalid(name, 'READ_ONLY_VALUE', `"${name}" is a read only property; its value cannot be set.`);
  }
  if (value === null) return undefined;
  if (typeof value === 'object') {
    return invalid(
      name,
      'INVALID_PROPERTY_VALUE',
      `${JSON.stringify(value)} is not a valid value for ${name}.`,
    );
  }
  const text = String(value);
  if (text === '') return undefined;
  if (def.validation === 'email' && !EMAIL.test(text)) {
    return invalid(name, 'INVALID_EMAIL', `Email address ${text} is invalid`);
  }
  if (text !== text.trim() && def.type !== 'string') {
    return invalid(name, 'INVALID_PROPERTY_VALUE', `${text} has leading or trailing whitespace.`);
  }
  switch (def.type) {
    case 'number':
      if (!Number.isFinite(Number(text)))
        return invalid(name, 'INVALID_FLOAT', `${text} was not a valid number.`);
      return undefined;
    case 'bool':
      if (text !== 'true' && text !== 'false') {
        return invalid(name, 'INVALID_BOOLEAN', `${text} was not a valid boolean (true or false).`);
      }
      return undefined;
    case 'enumeration': {
      const options = def.options ?? [];
      const bad = text.split(';').find((v) => !options.includes(v));
      if (bad !== undefined) {
        return invalid(
          name,
          'INVALID_OPTION',
          `${bad} was not one of the allowed options: [${options.join(', ')}]`,
        );
      }
      return undefined;
    }
    case 'date': {
      if (DATE_ONLY.test(text)) return undefined;
      const ms = Number(text);
      if (Number.isInteger(ms) && ms % 86_400_000 === 0) return undefined;
      if (Number.isInteger(ms)) {
        return invalid(name, 'INVALID_DATE', `${text} is at ${new Date(ms).toISOString()}, not midnight!`);
      }
      return invalid(name, 'INVALID_DATE', `${text} was not a valid date.`);
    }
    case 'datetime':
      if (/^\d+$/.test(text) || (ISO_DATETIME.test(text) && !Number.isNaN(Date.parse(text))))
        return undefined;
      if (DATE_ONLY.test(text)) return undefined;
      return invalid(name, 'INVALID_DATETIME', `${text} was not a valid datetime.`);
    default:
      return undefined;
  }
}

/** HubSpot stores every property value as a string. */
export function storedValue(value: unknown): string {
  return value === null || value === undefined ? '' : String(value);
}
