/**
 * Every error Writeback raises on purpose derives from WritebackError and carries a stable
 * `code` that a user can search for in the docs, the logs and the DLQ message attributes.
 */
export class WritebackError extends Error {
  public readonly code: string;
  public constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'WritebackError';
    this.code = code;
  }
}

/** The configuration is invalid; `errors` lists every problem as `path: reason`. */
export class ConfigValidationError extends WritebackError {
  public readonly errors: string[];
  public constructor(errors: string[]) {
    super('WB_CONFIG_INVALID', `invalid writeback config:\n  ${errors.join('\n  ')}`);
    this.name = 'ConfigValidationError';
    this.errors = errors;
  }
}

/** The source (table or query) cannot be read incrementally as configured. */
export class SourceError extends WritebackError {
  public constructor(code: string, message: string, options?: ErrorOptions) {
    super(code, message, options);
    this.name = 'SourceError';
  }
}

/** A row could not be turned into a target record (map threw, key missing…): DLQ, run goes on. */
export class InvalidRecordError extends WritebackError {
  public constructor(code: string, message: string, options?: ErrorOptions) {
    super(code, message, options);
    this.name = 'InvalidRecordError';
  }
}

/** The link store could not be reached or answered unexpectedly: abort before any target write. */
export class LinkStoreUnavailableError extends WritebackError {
  public constructor(message: string, options?: ErrorOptions) {
    super('WB_LINKSTORE_UNAVAILABLE', message, options);
    this.name = 'LinkStoreUnavailableError';
  }
}

/** Messages could not be enqueued durably; the bookmark must not move. */
export class EnqueueError extends WritebackError {
  public constructor(message: string, options?: ErrorOptions) {
    super('WB_ENQUEUE_FAILED', message, options);
    this.name = 'EnqueueError';
  }
}

/** How the write side must treat a failed record. */
export type ErrorDisposition = 'retryable' | 'permanent';

/** A target API refused or failed a record; the connector decides whether retrying can help. */
export class TargetError extends WritebackError {
  public readonly disposition: ErrorDisposition;
  public readonly httpStatus: number | undefined;
  public readonly retryAfterSeconds: number | undefined;
  public constructor(
    code: string,
    message: string,
    opts: { disposition: ErrorDisposition; httpStatus?: number; retryAfterSeconds?: number; cause?: unknown },
  ) {
    super(code, message, { cause: opts.cause });
    this.name = 'TargetError';
    this.disposition = opts.disposition;
    this.httpStatus = opts.httpStatus;
    this.retryAfterSeconds = opts.retryAfterSeconds;
  }
}

/** Short, secret-free description of any thrown value, for logs and DLQ attributes. */
export function describeError(err: unknown): { code: string; message: string; httpStatus?: number } {
  if (err instanceof TargetError) {
    return {
      code: err.code,
      message: err.message,
      ...(err.httpStatus ? { httpStatus: err.httpStatus } : {}),
    };
  }
  if (err instanceof WritebackError) return { code: err.code, message: err.message };
  const postgres = describePostgresError(err);
  if (postgres) return postgres;
  if (err instanceof Error) return { code: 'WB_INTERNAL', message: `${err.name}: ${err.message}` };
  return { code: 'WB_INTERNAL', message: String(err) };
}

/**
 * OpenSSL's verdicts on a server certificate that is not trusted (Node puts them in `code`), and
 * Node's own for a host name the certificate does not name.
 */
const UNTRUSTED_CERTIFICATE = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/**
 * A statement that ran past `statement_timeout` (SQLSTATE 57014) or waited past `lock_timeout`
 * (55P03), and a TLS connection that was refused, said as such instead of WB_INTERNAL.
 */
function describePostgresError(err: unknown): { code: string; message: string } | undefined {
  if (!(err instanceof Error)) return undefined;
  const code = (err as { code?: unknown }).code;
  if (err.name === 'PostgresError' && (code === '57014' || code === '55P03')) {
    return { code: 'WB_SQL_TIMEOUT', message: `${err.message} (Postgres ${code})` };
  }
  if (typeof code === 'string' && UNTRUSTED_CERTIFICATE.has(code)) {
    const fix =
      code === 'ERR_TLS_CERT_ALTNAME_INVALID'
        ? 'connect with a host name the certificate names, or set sslmode=verify-ca (the CA is still checked)'
        : 'give the CA that signed it with sslrootcert (a file in the URL, or PEM in the secret)';
    return {
      code: 'WB_POSTGRES_TLS',
      message: `TLS refused the server's certificate: ${err.message} (${code}); ${fix}`,
    };
  }
  // postgres.js asks for TLS and goes on with it whatever the server answers: a server without TLS
  // closes the connection, and Node reports it this way.
  if (code === 'ECONNRESET' && /before secure TLS connection was established/.test(err.message)) {
    return {
      code: 'WB_POSTGRES_TLS',
      message: `${err.message}: the server does not offer TLS (or dropped the connection). Writeback never falls back to plaintext: turn TLS on in the server, or set sslmode=disable in the URL to connect without it`,
    };
  }
  return undefined;
}
