import type { AwsCall, AwsRequest, AwsService, DescribeContext } from './awsCall.ts';
import { describeDynamoDb } from './describeDynamoDb.ts';
import {
  describeCloudFormation,
  describeLambda,
  describeSecretsManager,
  describeSts,
} from './describeOtherServices.ts';
import { describeS3 } from './describeS3.ts';
import { describeSqs } from './describeSqs.ts';

const DESCRIBERS: Record<AwsService, (request: AwsRequest, ctx: DescribeContext) => AwsCall[]> = {
  dynamodb: describeDynamoDb,
  sqs: describeSqs,
  s3: describeS3,
  secretsmanager: describeSecretsManager,
  lambda: describeLambda,
  cloudformation: describeCloudFormation,
  sts: describeSts,
};

/**
 * The IAM calls one request makes. Every call carries `aws:SecureTransport = true`: on AWS the SDK
 * reaches every endpoint over TLS, and the rehearsal's plain-http loopback hop is a stand-in for
 * that TLS connection, so evaluating `false` would make every `Deny … aws:SecureTransport false`
 * statement (our queue and bucket policies) deny what AWS allows. The principal's keys
 * (aws:PrincipalArn, aws:PrincipalAccount) and aws:CurrentTime are added by evaluateCall.
 * Throws UndescribableRequestError for a request it cannot read.
 */
export function describeAwsCall(service: AwsService, request: AwsRequest, ctx: DescribeContext): AwsCall[] {
  return DESCRIBERS[service](request, ctx).map((call) => ({
    ...call,
    conditions: { 'aws:SecureTransport': 'true', 'aws:RequestedRegion': ctx.region, ...call.conditions },
  }));
}
