import { createHash } from 'node:crypto';
import type { FunctionCredentials } from './functionSpecs.ts';

/**
 * Temporary credentials per IAM role, as Lambda gives a function its execution role's session
 * (`ASIA…` access key, secret, session token). In a rehearsal the access key id is how the gateway
 * knows which role made a call, so each role has its own, derived from the role's ARN.
 */
export class RoleCredentials {
  private readonly byKey = new Map<string, string>();

  /** The session credentials of a role (the same for every call with the same ARN). */
  forRole(roleArn: string): FunctionCredentials {
    const digest = createHash('sha256').update(roleArn).digest('hex').toUpperCase();
    const accessKeyId = `ASIA${digest.slice(0, 16)}`;
    this.byKey.set(accessKeyId, roleArn);
    return {
      accessKeyId,
      secretAccessKey: digest.slice(16, 56),
      sessionToken: `rehearsal-session-${digest.slice(56, 64)}`,
    };
  }

  /** The role a rehearsal access key id belongs to. */
  roleOf(accessKeyId: string): string | undefined {
    return this.byKey.get(accessKeyId);
  }

  /** Every role given credentials so far, by access key id. */
  entries(): ReadonlyMap<string, string> {
    return this.byKey;
  }
}
