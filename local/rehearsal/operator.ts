import type { FunctionCredentials } from './functionSpecs.ts';

/** The access key the operator CLI signs with in a rehearsal: allowed everything, as an admin would be. */
export const OPERATOR_ACCESS_KEY_ID = 'AKIAREHEARSALOPERATOR';

/** The operator's credentials (a user's long-term key: no session token). */
export const OPERATOR: FunctionCredentials = {
  accessKeyId: OPERATOR_ACCESS_KEY_ID,
  secretAccessKey: 'rehearsal-operator',
  sessionToken: '',
};
