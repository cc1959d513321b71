import { AwsServiceError, validationError } from './awsErrors.ts';

/**
 * The FunctionName pattern of Lambda's Invoke API: a name, `name:qualifier`, a partial ARN
 * (`account:function:name`) or a full ARN, each optionally qualified.
 */
const FUNCTION_NAME =
  /^(?:arn:(?:aws[a-zA-Z-]*)?:lambda:)?(?:([a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d{1}):)?(?:(\d{12}):)?(?:function:)?([a-zA-Z0-9-_.]+)(?::(\$LATEST|[a-zA-Z0-9-_]+))?$/;

export interface FunctionRef {
  /** The unqualified function ARN, with this endpoint's region and account where the name omits them. */
  readonly arn: string;
  readonly qualifier: string | undefined;
}

/**
 * Resolves an Invoke FunctionName (and the `Qualifier` query parameter) the way Lambda does: a
 * name without region or account is in the caller's; a qualifier in the name and one in the
 * query must agree.
 */
export function parseFunctionName(
  raw: string,
  queryQualifier: string | undefined,
  home: { readonly region: string; readonly accountId: string },
): FunctionRef {
  // Invoke's FunctionName is at most 170 characters (a qualified full ARN fits).
  if (raw.length > 170)
    throw validationError('functionName', 'Member must have length less than or equal to 170', raw);
  const match = FUNCTION_NAME.exec(raw);
  if (!match) {
    throw validationError(
      'functionName',
      `Member must satisfy regular expression pattern: ${FUNCTION_NAME.source.slice(1, -1)}`,
      raw,
    );
  }
  const [, region, accountId, name, nameQualifier] = match;
  if (nameQualifier !== undefined && queryQualifier !== undefined && nameQualifier !== queryQualifier) {
    throw new AwsServiceError(
      'InvalidParameterValueException',
      'The derived qualifier from the function name does not match the specified qualifier.',
      400,
      { Type: 'User' },
    );
  }
  return {
    arn: `arn:aws:lambda:${region ?? home.region}:${accountId ?? home.accountId}:function:${name}`,
    qualifier: nameQualifier ?? queryQualifier,
  };
}
