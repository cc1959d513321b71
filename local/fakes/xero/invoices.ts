import { randomUUID } from 'node:crypto';
import { snapshotMap } from '../common/snapshot.ts';
import { xeroDate } from './bodies.ts';
import type { ContactStore, WriteOutcome } from './contacts.ts';

export interface StoredLine {
  readonly LineItemID: string;
  fields: Record<string, unknown>;
}

export interface StoredInvoice {
  readonly InvoiceID: string;
  Type: string;
  ContactID: string;
  fields: Record<string, unknown>;
  lines: StoredLine[];
  updatedAt: number;
}

const TYPES = ['ACCREC', 'ACCPAY'];
const STATUSES = ['DRAFT', 'SUBMITTED', 'AUTHORISED', 'DELETED', 'VOIDED', 'PAID'];
/** Xero's documented transitions: anything else is refused. PAID is set by payments only. */
const NEXT: Record<string, readonly string[]> = {
  DRAFT: ['DRAFT', 'SUBMITTED', 'AUTHORISED', 'DELETED'],
  SUBMITTED: ['SUBMITTED', 'AUTHORISED', 'DRAFT', 'DELETED'],
  AUTHORISED: ['AUTHORISED', 'VOIDED'],
};
const HEADER = new Set([
  'InvoiceNumber',
  'Reference',
  'Date',
  'DueDate',
  'Status',
  'LineAmountTypes',
  'CurrencyCode',
  'CurrencyRate',
  'BrandingThemeID',
  'Url',
  'SentToContact',
  'ExpectedPaymentDate',
  'PlannedPaymentDate',
]);
const LINE = new Set([
  'Description',
  'Quantity',
  'UnitAmount',
  'ItemCode',
  'AccountCode',
  'TaxType',
  'TaxAmount',
  'DiscountRate',
  'Tracking',
]);
const DATE = /^(\d{4}-\d{2}-\d{2})(T\d{2}:\d{2}:\d{2}(\.\d+)?)?$/;

const round2 = (n: number) => Math.round(n * 100) / 100;

/**
 * Invoices (sales ACCREC and bills ACCPAY) with their LineItems embedded, under Xero's rules:
 * - PUT creates only; POST updates the invoice named by InvoiceID or, for ACCREC, by its
 *   InvoiceNumber (unique for ACCREC: "Invoice # must be unique."), else creates; ACCPAY numbers
 *   are not unique, so a POST without InvoiceID always creates a bill;
 * - Type, Contact and line Descriptions are required; the contact is named by ContactID,
 *   ContactNumber or Name (a new Name creates the contact);
 * - given LineItems replace the lines: a line with a known LineItemID is updated, one without is
 *   added, a line left out is deleted; totals are recomputed (LineAmount = Quantity × UnitAmount
 *   less discount; TaxAmount as given);
 * - status transitions follow Xero's table; PAID, VOIDED and DELETED invoices cannot be modified.
 */
export class InvoiceStore {
  private readonly byId = new Map<string, StoredInvoice>();
  private nextNumber = 1;

  public all(): StoredInvoice[] {
    return [...this.byId.values()];
  }

  public get(id: string): StoredInvoice | undefined {
    return this.byId.get(id);
  }

  public byNumber(number: string, type = 'ACCREC'): StoredInvoice | undefined {
    return this.all().find((i) => i.Type === type && i.fields.InvoiceNumber === number);
  }

  public find(idOrNumber: string): StoredInvoice | undefined {
    return this.byId.get(idOrNumber) ?? this.byNumber(idOrNumber);
  }

  public snapshot(): () => void {
    return snapshotMap(this.byId);
  }

  public clear(): void {
    this.byId.clear();
    this.nextNumber = 1;
  }

  public write(
    input: unknown,
    mode: 'create' | 'upsert',
    contacts: ContactStore,
    now: number,
  ): WriteOutcome<StoredInvoice> {
    if (typeof input !== 'object' || input === null || Array.isArray(input)) {
      return { errors: ['An invoice element must be an object'] };
    }
    const el = input as Record<string, unknown>;
    const errors: string[] = [];
    let existing: StoredInvoice | undefined;
    const id = typeof el.InvoiceID === 'string' && el.InvoiceID !== '' ? el.InvoiceID : undefined;
    const type = typeof el.Type === 'string' ? el.Type : undefined;
    const number =
      typeof el.InvoiceNumber === 'string' && el.InvoiceNumber !== '' ? el.InvoiceNumber : undefined;
    if (id !== undefined) {
      existing = this.byId.get(id);
      if (!existing || mode === 'create')
        return { errors: [`Invoice with InvoiceID ${id} could not be found.`] };
    } else if (number !== undefined && (type ?? 'ACCREC') === 'ACCREC') {
      const holder = this.byNumber(number);
      if (holder && mode === 'create') errors.push('Invoice # must be unique.');
      else existing = holder;
    }
    const finalType = existing?.Type ?? type;
    if (finalType === undefined || !TYPES.includes(finalType))
      errors.push('Invoice not of valid type for creation');
    if (existing && type !== undefined && type !== existing.Type)
      errors.push('The Type of an invoice cannot be changed.');
    const status = existing?.fields.Status as string | undefined;
    if (existing && (status === 'PAID' || status === 'VOIDED' || status === 'DELETED')) {
      return { errors: ['Invoice not of valid status for modification'] };
    }

    let contactId = existing?.ContactID;
    if (el.Contact !== undefined || !existing) {
      const c = contacts.resolveReference(el.Contact, now);
      if (typeof c === 'string') errors.push(c);
      else contactId = c.ContactID;
    }

    const next: Record<string, unknown> = {
      ...(existing?.fields ?? { Status: 'DRAFT', LineAmountTypes: 'Exclusive' }),
    };
    for (const [k, v] of Object.entries(el)) {
      if (!HEADER.has(k) || v === undefined || v === null) continue;
      if (v === '') delete next[k];
      else next[k] = v;
    }
    for (const f of ['Date', 'DueDate']) {
      const v = next[f];
      if (v !== undefined && (typeof v !== 'string' || !DATE.test(v) || Number.isNaN(Date.parse(v)))) {
        errors.push(`${f} is not a valid date.`);
      } else if (typeof v === 'string') next[f] = v.slice(0, 10);
    }
    next.Date ??= new Date(now).toISOString().slice(0, 10);
    const wanted = String(next.Status);
    if (!STATUSES.includes(wanted) || wanted === 'PAID')
      errors.push(`${wanted} is not a valid invoice status.`);
    else if (status !== undefined && !(NEXT[status] ?? []).includes(wanted)) {
      errors.push('Invoice not of valid status for modification');
    }

    let lines = existing?.lines ?? [];
    if (el.LineItems !== undefined) {
      if (!Array.isArray(el.LineItems)) errors.push('LineItems must be a list.');
      else {
        const made = this.mergeLines(existing?.lines ?? [], el.LineItems, finalType ?? 'ACCREC');
        if ('errors' in made) errors.push(...made.errors);
        else lines = made.lines;
      }
    }
    if (errors.length > 0) return { errors };
    if (finalType === 'ACCREC' && next.InvoiceNumber === undefined) {
      next.InvoiceNumber = `INV-${String(this.nextNumber++).padStart(4, '0')}`;
    }
    const record: StoredInvoice = existing ?? {
      InvoiceID: randomUUID(),
      Type: finalType!,
      ContactID: contactId!,
      fields: {},
      lines: [],
      updatedAt: now,
    };
    record.ContactID = contactId!;
    record.fields = next;
    record.lines = lines;
    record.updatedAt = now;
    this.byId.set(record.InvoiceID, record);
    return { record, created: existing === undefined };
  }

  private mergeLines(
    old: readonly StoredLine[],
    given: readonly unknown[],
    type: string,
  ): { lines: StoredLine[] } | { errors: string[] } {
    const errors: string[] = [];
    const lines: StoredLine[] = [];
    for (const raw of given) {
      if (typeof raw !== 'object' || raw === null) {
        errors.push('A line item must be an object.');
        continue;
      }
      const l = raw as Record<string, unknown>;
      const prior =
        typeof l.LineItemID === 'string' ? old.find((o) => o.LineItemID === l.LineItemID) : undefined;
      const fields: Record<string, unknown> = { ...(prior?.fields ?? {}) };
      for (const [k, v] of Object.entries(l)) if (LINE.has(k) && v !== undefined && v !== null) fields[k] = v;
      const description = fields.Description;
      if ((typeof description !== 'string' || description === '') && fields.ItemCode === undefined) {
        errors.push('Description needs to be at least 1 char long');
      }
      for (const n of ['Quantity', 'UnitAmount', 'TaxAmount', 'DiscountRate']) {
        if (fields[n] !== undefined && !Number.isFinite(Number(fields[n])))
          errors.push(`${n} must be a number.`);
      }
      if (fields.DiscountRate !== undefined && type !== 'ACCREC') {
        errors.push('Discounts are only supported on sales invoices (ACCREC).');
      }
      lines.push({ LineItemID: prior?.LineItemID ?? randomUUID(), fields });
    }
    return errors.length > 0 ? { errors } : { lines };
  }

  /** The API view; `withLines` false for unpaged lists (Xero leaves line details out there). */
  public toApi(i: StoredInvoice, contacts: ContactStore, withLines: boolean): Record<string, unknown> {
    const lines = i.lines.map((l) => {
      const q = Number(l.fields.Quantity ?? 1);
      const u = Number(l.fields.UnitAmount ?? 0);
      const d = Number(l.fields.DiscountRate ?? 0);
      return {
        LineItemID: l.LineItemID,
        ...l.fields,
        Quantity: q,
        UnitAmount: u,
        TaxAmount: round2(Number(l.fields.TaxAmount ?? 0)),
        LineAmount: round2(q * u * (1 - d / 100)),
      };
    });
    const subTotal = round2(lines.reduce((s, l) => s + l.LineAmount, 0));
    const tax = round2(lines.reduce((s, l) => s + l.TaxAmount, 0));
    const inclusive = i.fields.LineAmountTypes === 'Inclusive';
    const total = inclusive ? subTotal : round2(subTotal + tax);
    const contact = contacts.get(i.ContactID);
    return {
      Type: i.Type,
      InvoiceID: i.InvoiceID,
      ...i.fields,
      Contact: {
        ContactID: i.ContactID,
        ...(contact?.fields.ContactNumber ? { ContactNumber: contact.fields.ContactNumber } : {}),
        Name: contact?.fields.Name,
      },
      Date: xeroDate(Date.parse(`${i.fields.Date}T00:00:00Z`)),
      DateString: `${i.fields.Date}T00:00:00`,
      ...(i.fields.DueDate
        ? {
            DueDate: xeroDate(Date.parse(`${i.fields.DueDate}T00:00:00Z`)),
            DueDateString: `${i.fields.DueDate}T00:00:00`,
          }
        : {}),
      ...(withLines ? { LineItems: lines } : {}),
      SubTotal: inclusive ? round2(subTotal - tax) : subTotal,
      TotalTax: tax,
      Total: total,
      AmountDue: i.fields.Status === 'PAID' ? 0 : total,
      AmountPaid: 0,
      UpdatedDateUTC: xeroDate(i.updatedAt),
      HasAttachments: false,
    };
  }
}
