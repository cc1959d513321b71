import { hostname, userInfo } from 'node:os';
import type { Actor } from '../state/OperatorAction.ts';
import { UnreachableError } from './errors.ts';

/** The OS user this process runs as (USER when the system cannot say). */
export function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? process.env.USERNAME ?? 'unknown';
  }
}

/** On the local stack the actor is the OS user. */
export function localActor(): Actor {
  const user = osUser();
  return { kind: 'local', id: user, osUser: user, host: hostname() };
}

/**
 * On a deployed stack the actor is the AWS principal the CLI's credentials resolve to:
 * sts:GetCallerIdentity (which needs no permission and cannot be denied). An action whose actor
 * cannot be told is not carried out: the error says so, and nothing changed.
 */
export async function awsActor(
  opts: {
    readonly region?: string;
    /** Tests: a local STS. */
    readonly endpoint?: string;
    readonly credentials?: { accessKeyId: string; secretAccessKey: string };
  } = {},
): Promise<Actor> {
  const { GetCallerIdentityCommand, STSClient } = await import('@aws-sdk/client-sts');
  const sts = new STSClient({
    ...(opts.region ? { region: opts.region } : {}),
    ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
    ...(opts.credentials ? { credentials: opts.credentials } : {}),
  });
  try {
    const who = await sts.send(new GetCallerIdentityCommand({}));
    if (!who.Arn) throw new Error('the answer names no principal');
    return {
      kind: 'aws',
      id: who.Arn,
      ...(who.Account ? { account: who.Account } : {}),
      osUser: osUser(),
      host: hostname(),
    };
  } catch (err) {
    throw new UnreachableError(
      `cannot tell who you are on AWS (sts:GetCallerIdentity: ${(err as Error).message}), which the audit trail records for every change: nothing changed. Check your AWS credentials (aws sts get-caller-identity)`,
      { cause: err },
    );
  } finally {
    sts.destroy();
  }
}
