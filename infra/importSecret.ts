import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';

const COMPLETE_ARN = /^arn:[^:]+:secretsmanager:[^:]*:[^:]*:secret:.+-[A-Za-z0-9]{6}$/;

/**
 * References an existing Secrets Manager secret given as in the config: a name, a partial ARN or
 * a complete ARN. Secrets stay outside the stack: their values never pass through CloudFormation.
 *
 * With a complete ARN the grants name exactly that secret; with a name or partial ARN they end in
 * `-??????` (Secrets Manager appends six random characters to every secret's ARN), and the
 * functions receive the partial ARN, which GetSecretValue accepts.
 */
export function importSecret(scope: Construct, id: string, nameOrArn: string): secretsmanager.ISecret {
  if (COMPLETE_ARN.test(nameOrArn)) return secretsmanager.Secret.fromSecretCompleteArn(scope, id, nameOrArn);
  if (nameOrArn.startsWith('arn:')) return secretsmanager.Secret.fromSecretPartialArn(scope, id, nameOrArn);
  return secretsmanager.Secret.fromSecretNameV2(scope, id, nameOrArn);
}
