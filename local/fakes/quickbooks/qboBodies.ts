import type { Reply } from '../common/FakeServer.ts';

/** One error of a Fault, as Intuit's reference shows it (`code` a string). */
export interface FakeQboError {
  readonly Message: string;
  readonly Detail?: string;
  readonly code: string;
  readonly element?: string;
}

/** `{ Fault: { Error: [...], type }, time }`: the body of every QuickBooks error (handling-common-errors). */
export function fault(type: string, errors: readonly FakeQboError[], now: number) {
  return {
    Fault: { Error: errors.map((e) => ({ element: '', ...e })), type },
    time: new Date(now).toISOString(),
  };
}

export function validationFault(error: FakeQboError, now: number, status = 400): Reply {
  return { status, body: fault('ValidationFault', [error], now) };
}

/** The errors the fake raises, with Intuit's codes and messages. */
export const QBO_ERRORS = {
  staleObject: (): FakeQboError => ({
    Message: 'Stale Object Error',
    Detail:
      'Stale Object Error : You and root were working on this at the same time. root finished before you did, so your work was not saved.',
    code: '5010',
  }),
  duplicateName: (): FakeQboError => ({
    Message: 'Duplicate Name Exists Error',
    Detail:
      'The name supplied already exists. : Another customer, vendor or employee is already using this name. Please use a different name.',
    code: '6240',
  }),
  objectNotFound: (): FakeQboError => ({
    Message: 'Object Not Found',
    Detail:
      "Object Not Found : Something you're trying to use has been made inactive. Check the fields with accounts.",
    code: '610',
  }),
  invalidReference: (what: string): FakeQboError => ({
    Message: 'Invalid Reference Id',
    Detail: `Invalid Reference Id : ${what} assigned to this transaction has been deleted. Before you can modify this transaction, you must restore ${what}.`,
    code: '2500',
  }),
  requiredParam: (param: string): FakeQboError => ({
    Message: 'Required param missing, need to supply the required value for the API',
    Detail: `Required parameter ${param} is missing in the request`,
    code: '2020',
  }),
  noName: (): FakeQboError => ({
    Message: 'No Name Provided',
    Detail: 'Title, GivenName, MiddleName, FamilyName, DisplayName, Suffix - one of these must be non-empty',
    code: '6080',
  }),
  businessValidation: (detail: string): FakeQboError => ({
    Message: 'A business validation error has occurred while processing your request',
    Detail: `Business Validation Error: ${detail}`,
    code: '6000',
  }),
  throttled: (): FakeQboError => ({
    Message: 'message=ThrottleExceeded; errorCode=003001; statusCode=429',
    Detail: 'The request limit was reached.',
    code: '3001',
  }),
  systemFailure: (): FakeQboError => ({
    Message: 'An application error has occurred while processing your request',
    Detail: 'System Failure Error: An unexpected error occurred while accessing or saving your data.',
    code: '10000',
  }),
};

/** The 401 of an expired or wrong access token (lower-case keys, as the gateway sends it). */
export function authenticationFailed(now: number): Reply {
  return {
    status: 401,
    body: {
      fault: {
        error: [
          {
            message: 'message=AuthenticationFailed; errorCode=003200; statusCode=401',
            detail: null,
            code: '3200',
          },
        ],
        type: 'AUTHENTICATION',
      },
      time: new Date(now).toISOString(),
    },
  };
}
