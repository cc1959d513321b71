/**
 * An error a local AWS endpoint answers with: `code` is AWS's own error code (the name the SDK
 * gives the exception it throws), `status` the HTTP status the real service uses for it. Each
 * protocol module renders it in its wire shape (JSON `__type`, restJson `x-amzn-ErrorType`,
 * Query `<ErrorResponse>`).
 */
export class AwsServiceError extends Error {
  public readonly code: string;
  public readonly status: number;
  /** Extra members of the error shape (Lambda's errors carry `Type: User`). */
  public readonly fields: Readonly<Record<string, string>>;
  public constructor(code: string, message: string, status = 400, fields: Record<string, string> = {}) {
    super(message);
    this.name = 'AwsServiceError';
    this.code = code;
    this.status = status;
    this.fields = fields;
  }
}

/**
 * The coral validation message AWS services answer for a member outside its modelled
 * constraint. Sensitive members (secret values) are named without their value, as AWS does.
 */
export function validationError(member: string, constraint: string, value?: string): AwsServiceError {
  const shown = value === undefined ? 'Value' : `Value '${value}'`;
  return new AwsServiceError(
    'ValidationException',
    `1 validation error detected: ${shown} at '${member}' failed to satisfy constraint: ${constraint}`,
  );
}
