import { randomUUID } from 'node:crypto';

/**
 * Bodies shaped like Xero's Accounting API (api.xro/2.0) answers: the response envelope
 * (Id, Status, ProviderName, DateTimeUTC and the plural collection), the ApiException of a
 * 400 (ErrorNumber 10, Type ValidationException, Elements with ValidationErrors), and the
 * problem-details bodies of 401/403 (Type, Title, Status, Detail, Instance, Extensions).
 */

/** Xero's JSON date: `/Date(1551399321043+0000)/`. */
export function xeroDate(ms: number): string {
  return `/Date(${ms}+0000)/`;
}

export function envelope(collection: string, items: unknown[], extra: Record<string, unknown> = {}) {
  return {
    Id: randomUUID(),
    Status: 'OK',
    ProviderName: 'Writeback Xero fake',
    DateTimeUTC: `/Date(${Date.now()})/`,
    ...extra,
    [collection]: items,
  };
}

/** The 400 a write answers when summarizeErrors is left on and an element is invalid. */
export function validationException(elements: unknown[]) {
  return {
    ErrorNumber: 10,
    Type: 'ValidationException',
    Message: 'A validation exception occurred',
    Elements: elements,
  };
}

/** A 400 about the request itself (bad JSON, a bad where clause, a reused idempotency key…). */
export function badRequest(message: string) {
  return { ErrorNumber: 14, Type: 'PostDataInvalidException', Message: message };
}

/** 401 and 403 problem details, as Xero's identity layer answers them. */
export function problem(status: 401 | 403, detail: string) {
  return {
    Type: null,
    Title: status === 401 ? 'Unauthorized' : 'Forbidden',
    Status: status,
    Detail: detail,
    Instance: randomUUID(),
    Extensions: {},
  };
}

export const NOT_FOUND_TEXT = "The resource you're looking for cannot be found";
