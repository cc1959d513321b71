import { randomUUID } from 'node:crypto';
import { snapshotMap } from '../common/snapshot.ts';
import { xeroDate } from './bodies.ts';

/** A contact as the fake holds it: the writable elements as last written, plus Xero's own. */
export interface StoredContact {
  readonly ContactID: string;
  fields: Record<string, unknown>;
  updatedAt: number;
}

/** How a write element was resolved: a record written, or the messages of its ValidationErrors. */
export type WriteOutcome<T> = { record: T; created: boolean } | { errors: string[] };

const WRITABLE = new Set([
  'ContactNumber',
  'AccountNumber',
  'ContactStatus',
  'Name',
  'FirstName',
  'LastName',
  'CompanyNumber',
  'EmailAddress',
  'BankAccountDetails',
  'TaxNumber',
  'AccountsReceivableTaxType',
  'AccountsPayableTaxType',
  'Addresses',
  'Phones',
  'ContactPersons',
  'DefaultCurrency',
  'PaymentTerms',
  'SalesDefaultAccountCode',
  'PurchasesDefaultAccountCode',
]);
/** Local part, one @, a dotted domain; no spaces (Xero: "Email address must be valid."). */
const EMAIL = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/;
const STATUSES = ['ACTIVE', 'ARCHIVED'];

const lower = (v: unknown) => (typeof v === 'string' ? v.toLowerCase() : undefined);

/**
 * The Contacts of one organisation with Xero's write rules:
 * - PUT creates only; POST updates the contact named by ContactID, else by ContactNumber, else creates;
 * - elements left out keep their value, an empty string clears one;
 * - Name is required to create, at most 255 characters, and unique across ACTIVE contacts
 *   ("The contact name … is already assigned to another contact…", Xero's own message);
 * - ContactNumber at most 50 characters and unique; EmailAddress must be valid;
 * - IsSupplier / IsCustomer cannot be set (Xero sets them from transactions) and are ignored.
 */
export class ContactStore {
  private readonly byId = new Map<string, StoredContact>();

  public all(): StoredContact[] {
    return [...this.byId.values()];
  }

  public get(id: string): StoredContact | undefined {
    return this.byId.get(id);
  }

  public byNumber(number: string): StoredContact | undefined {
    const n = number.toLowerCase();
    return this.all().find((c) => lower(c.fields.ContactNumber) === n);
  }

  public activeByName(name: string): StoredContact | undefined {
    const n = name.toLowerCase();
    return this.all().find((c) => lower(c.fields.Name) === n && c.fields.ContactStatus !== 'ARCHIVED');
  }

  /** A contact by ContactID or ContactNumber (GET /Contacts/{either}). */
  public find(idOrNumber: string): StoredContact | undefined {
    return this.byId.get(idOrNumber) ?? this.byNumber(idOrNumber);
  }

  public snapshot(): () => void {
    return snapshotMap(this.byId);
  }

  public clear(): void {
    this.byId.clear();
  }

  /** Validates and applies one element of a PUT (create) or POST (upsert) body. */
  public write(input: unknown, mode: 'create' | 'upsert', now: number): WriteOutcome<StoredContact> {
    if (typeof input !== 'object' || input === null || Array.isArray(input)) {
      return { errors: ['A contact element must be an object'] };
    }
    const el = input as Record<string, unknown>;
    const errors: string[] = [];
    const id = typeof el.ContactID === 'string' && el.ContactID !== '' ? el.ContactID : undefined;
    const number =
      typeof el.ContactNumber === 'string' && el.ContactNumber !== '' ? el.ContactNumber : undefined;
    let existing: StoredContact | undefined;
    if (id !== undefined) {
      existing = this.byId.get(id);
      if (!existing) return { errors: [`The contact with ContactID ${id} could not be found.`] };
      if (mode === 'create') return { errors: ['A contact with this ContactID already exists.'] };
    } else if (number !== undefined) {
      const holder = this.byNumber(number);
      if (holder && mode === 'create') {
        errors.push(`The contact number ${number} is already assigned to another contact.`);
      } else existing = holder;
    }
    const next: Record<string, unknown> = { ...(existing?.fields ?? { ContactStatus: 'ACTIVE' }) };
    for (const [k, v] of Object.entries(el)) {
      if (!WRITABLE.has(k) || v === undefined || v === null) continue;
      if (v === '') delete next[k];
      else next[k] = v;
    }
    const name = next.Name;
    if (typeof name !== 'string' || name.trim() === '') {
      errors.push('A Contact Name must be specified.');
    } else {
      if (name.length > 255) errors.push('The contact name must be 255 characters or less.');
      const holder = next.ContactStatus === 'ARCHIVED' ? undefined : this.activeByName(name);
      if (holder && holder !== existing) {
        errors.push(
          `The contact name ${name} is already assigned to another contact. The contact name must be unique across all active contacts.`,
        );
      }
    }
    const num = next.ContactNumber;
    if (typeof num === 'string') {
      if (num.length > 50) errors.push('The ContactNumber must be 50 characters or less.');
      const holder = this.byNumber(num);
      if (holder && existing && holder !== existing) {
        errors.push(`The contact number ${num} is already assigned to another contact.`);
      }
    }
    if (typeof next.EmailAddress === 'string' && !EMAIL.test(next.EmailAddress)) {
      errors.push('Email address must be valid.');
    }
    if (typeof next.ContactStatus === 'string' && !STATUSES.includes(next.ContactStatus)) {
      errors.push(`${next.ContactStatus} is not a valid ContactStatus.`);
    }
    if (errors.length > 0) return { errors };
    const record = existing ?? { ContactID: randomUUID(), fields: {}, updatedAt: now };
    record.fields = next;
    record.updatedAt = now;
    this.byId.set(record.ContactID, record);
    return { record, created: existing === undefined };
  }

  /** Finds the contact an invoice names (ContactID, ContactNumber or Name), creating one by Name. */
  public resolveReference(ref: unknown, now: number): StoredContact | string {
    if (typeof ref !== 'object' || ref === null)
      return 'A Contact must be specified for this type of transaction';
    const r = ref as Record<string, unknown>;
    if (typeof r.ContactID === 'string' && r.ContactID !== '') {
      return this.byId.get(r.ContactID) ?? `The contact with ContactID ${r.ContactID} could not be found.`;
    }
    if (typeof r.ContactNumber === 'string' && r.ContactNumber !== '') {
      return (
        this.byNumber(r.ContactNumber) ??
        `The contact with ContactNumber ${r.ContactNumber} could not be found.`
      );
    }
    if (typeof r.Name === 'string' && r.Name.trim() !== '') {
      const found = this.activeByName(r.Name);
      if (found) return found;
      const made = this.write({ Name: r.Name }, 'create', now);
      return 'record' in made ? made.record : (made.errors[0] ?? 'invalid contact');
    }
    return 'A Contact must be specified for this type of transaction';
  }

  /** The API view of a contact. */
  public toApi(
    c: StoredContact,
    invoices: { customer: boolean; supplier: boolean },
  ): Record<string, unknown> {
    return {
      ContactID: c.ContactID,
      ContactStatus: 'ACTIVE',
      ...c.fields,
      UpdatedDateUTC: xeroDate(c.updatedAt),
      IsSupplier: invoices.supplier,
      IsCustomer: invoices.customer,
      HasValidationErrors: false,
    };
  }
}
