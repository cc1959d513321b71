import { randomUUID } from 'node:crypto';
import type { AwsService } from './awsCall.ts';

/** An HTTP answer the gateway gives in the service's own error shape. */
export interface ErrorResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

type ErrorKind = 'accessDenied' | 'unrecognizedClient';

/**
 * The error AWS answers a refused call with, per protocol, so that the SDK in the function throws
 * what it would throw on AWS (its error name is the part of `__type` after `#`, the restJson
 * x-amzn-ErrorType, or the XML Code):
 *
 * - DynamoDB, Secrets Manager (awsJson): 400, `AccessDeniedException` / `UnrecognizedClientException`;
 * - SQS (awsJson1_0 with the query-compatible x-amzn-query-error header the SDK reads): 403;
 * - Lambda (restJson1): 403 with x-amzn-ErrorType;
 * - CloudFormation, STS (awsQuery): 403 `<ErrorResponse>`, AccessDenied / InvalidClientTokenId;
 * - S3 (restXml): 403 `<Error>`, AccessDenied / InvalidAccessKeyId.
 */
export function errorResponse(service: AwsService, kind: ErrorKind, message: string): ErrorResponse {
  const requestId = randomUUID();
  const json = (status: number, type: string, contentType: string, extra: Record<string, string> = {}) => ({
    status,
    headers: { 'content-type': contentType, 'x-amzn-requestid': requestId, ...extra },
    body: JSON.stringify({ __type: type, Message: message, message }),
  });
  const denied = kind === 'accessDenied';
  switch (service) {
    case 'dynamodb':
      return json(
        400,
        `com.amazon.coral.service#${denied ? 'AccessDeniedException' : 'UnrecognizedClientException'}`,
        'application/x-amz-json-1.0',
      );
    case 'secretsmanager':
      return json(
        400,
        denied ? 'AccessDeniedException' : 'UnrecognizedClientException',
        'application/x-amz-json-1.1',
      );
    case 'sqs':
      return json(
        denied ? 403 : 400,
        `com.amazon.coral.service#${denied ? 'AccessDeniedException' : 'UnrecognizedClientException'}`,
        'application/x-amz-json-1.0',
        { 'x-amzn-query-error': `${denied ? 'AccessDenied' : 'InvalidClientTokenId'};Sender` },
      );
    case 'lambda': {
      const code = denied ? 'AccessDeniedException' : 'UnrecognizedClientException';
      return {
        status: 403,
        headers: {
          'content-type': 'application/json',
          'x-amzn-errortype': code,
          'x-amzn-requestid': requestId,
        },
        body: JSON.stringify({ Type: 'User', Message: message }),
      };
    }
    case 'cloudformation':
    case 'sts':
      return {
        status: 403,
        headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId },
        body:
          `<ErrorResponse xmlns="${service === 'sts' ? 'https://sts.amazonaws.com/doc/2011-06-15/' : 'http://cloudformation.amazonaws.com/doc/2010-05-15/'}">` +
          `<Error><Type>Sender</Type><Code>${denied ? 'AccessDenied' : 'InvalidClientTokenId'}</Code>` +
          `<Message>${escapeXml(message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
      };
    case 's3':
      return {
        status: 403,
        headers: { 'content-type': 'application/xml', 'x-amz-request-id': requestId },
        body:
          '<?xml version="1.0" encoding="UTF-8"?>\n' +
          `<Error><Code>${denied ? 'AccessDenied' : 'InvalidAccessKeyId'}</Code><Message>${escapeXml(message)}</Message>` +
          `<RequestId>${requestId}</RequestId><HostId>rehearsal</HostId></Error>`,
      };
  }
}

/** AWS's message for an access key it does not know, per service. */
export function unknownKeyMessage(service: AwsService): string {
  return service === 's3'
    ? 'The AWS Access Key Id you provided does not exist in our records.'
    : 'The security token included in the request is invalid.';
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
