import * as iam from 'aws-cdk-lib/aws-iam';
import type * as sqs from 'aws-cdk-lib/aws-sqs';

/**
 * Tag on the role of every Writeback function (extract, write, verify), valued with the role's
 * kind. The queue policies tell the stack's own functions apart from every other principal by it.
 */
export const FUNCTION_ROLE_TAG = 'writeback:function';

/**
 * Lets only `senders` among the Writeback functions send to a queue, in the queue's own policy:
 *
 * - an explicit allow list: `sqs:SendMessage` for exactly these roles;
 * - a Deny of `sqs:SendMessage` to every principal that carries FUNCTION_ROLE_TAG (a Writeback
 *   function of any sync, of this stack or of another Writeback stack in the account) unless it is
 *   one of `senders`. A wrong identity grant (another sync's queue URL, `sqs:*`) is then still
 *   refused.
 *
 * The Deny names only `sqs:SendMessage` and only tagged principals, so it cannot lock anyone out:
 * the account root, CloudFormation, an operator (`writeback dlq redrive` sends with the operator's
 * own credentials), Scheduler and Lambda's event source keep what their own policies give them, and
 * the policy itself stays editable. A Deny on every principal outside the list (`aws:PrincipalArn`)
 * would have refused the operator's redrive and any role a user adds later.
 */
export function restrictSenders(queue: sqs.IQueue, senders: readonly iam.IRole[]): void {
  if (senders.length > 0) {
    queue.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowItsSenders',
        effect: iam.Effect.ALLOW,
        principals: senders.map((role) => new iam.ArnPrincipal(role.roleArn)),
        actions: ['sqs:SendMessage'],
        resources: [queue.queueArn],
      }),
    );
  }
  queue.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'DenyOtherWritebackFunctions',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: ['sqs:SendMessage'],
      resources: [queue.queueArn],
      conditions: {
        // Only principals that carry the tag: Writeback's functions.
        Null: { [`aws:PrincipalTag/${FUNCTION_ROLE_TAG}`]: 'false' },
        ...(senders.length > 0
          ? { ArnNotEquals: { 'aws:PrincipalArn': senders.map((role) => role.roleArn) } }
          : {}),
      },
    }),
  );
}
