import { randomInt, randomUUID } from 'node:crypto';
import { AwsServiceError, validationError } from './awsErrors.ts';

export const AWSCURRENT = 'AWSCURRENT';
export const AWSPREVIOUS = 'AWSPREVIOUS';

/** Secrets Manager's quota on a secret value (SecretString or SecretBinary), in bytes. */
export const MAX_SECRET_VALUE_BYTES = 65_536;

export type SecretValue = { readonly secretString: string } | { readonly secretBinary: Uint8Array };

export interface SecretVersion {
  readonly versionId: string;
  readonly value: SecretValue;
  readonly createdDate: Date;
  /** Staging labels; a version with none is deprecated (still readable by VersionId). */
  stages: string[];
  lastAccessedDate?: Date;
}

export interface Secret {
  readonly name: string;
  readonly arn: string;
  readonly description: string | undefined;
  readonly tags: readonly { Key?: string; Value?: string }[] | undefined;
  readonly createdDate: Date;
  lastChangedDate: Date;
  lastAccessedDate?: Date;
  /** In creation order. */
  readonly versions: SecretVersion[];
}

const NAME = /^[a-zA-Z0-9/_+=.@-]{1,512}$/;
const SUFFIX_CHARS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

const notFound = (): AwsServiceError =>
  new AwsServiceError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");

/**
 * The secrets of one account and region, with Secrets Manager's version and staging-label rules:
 * a label is on at most one version; AWSCURRENT is on exactly one once a value exists, and when
 * it moves, AWSPREVIOUS moves to the version it left. The wire protocol lives in
 * LocalSecretsManager; this holds the state so tests and the rehearsal can seed and read it.
 */
export class SecretStore {
  readonly #region: string;
  readonly #accountId: string;
  readonly #byName = new Map<string, Secret>();

  public constructor(opts: { region: string; accountId: string }) {
    this.#region = opts.region;
    this.#accountId = opts.accountId;
  }

  /**
   * Finds a secret by name, full ARN, or partial ARN (the ARN without its `-xxxxxx` suffix),
   * the three forms a SecretId may take.
   */
  public resolve(secretId: string | undefined): Secret {
    if (!secretId) throw validationError('secretId', 'Member must not be null', 'null');
    const byName = this.#byName.get(secretId);
    if (byName) return byName;
    for (const secret of this.#byName.values()) {
      if (secret.arn === secretId || this.#arnPrefix(secret.name) === secretId) return secret;
    }
    throw notFound();
  }

  public create(input: {
    name: string | undefined;
    value?: SecretValue | undefined;
    versionId?: string | undefined;
    description?: string | undefined;
    tags?: Secret['tags'];
    /** A fixed ARN, for a secret a template already names by its complete ARN. */
    arn?: string | undefined;
  }): { secret: Secret; version: SecretVersion | undefined } {
    const { name } = input;
    if (!name) throw validationError('name', 'Member must not be null', 'null');
    if (!NAME.test(name)) {
      throw new AwsServiceError(
        'InvalidParameterException',
        'Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!',
      );
    }
    if (this.#byName.has(name)) {
      throw new AwsServiceError(
        'ResourceExistsException',
        `The operation failed because the secret ${name} already exists.`,
      );
    }
    if (input.arn !== undefined && !input.arn.startsWith(`${this.#arnPrefix(name)}-`)) {
      throw new Error(`seeded ARN ${input.arn} is not an ARN of secret ${name} in this account and region`);
    }
    const now = new Date();
    const secret: Secret = {
      name,
      arn: input.arn ?? `${this.#arnPrefix(name)}-${randomSuffix()}`,
      description: input.description,
      tags: input.tags,
      createdDate: now,
      lastChangedDate: now,
      versions: [],
    };
    this.#byName.set(name, secret);
    const version = input.value
      ? this.#addVersion(secret, input.value, checkToken(input.versionId), [AWSCURRENT])
      : undefined;
    return { secret, version };
  }

  /**
   * Adds a version (PutSecretValue). Idempotent on the token: the same token with the same
   * value is the existing version, unchanged; with another value it is refused.
   */
  public put(
    secret: Secret,
    value: SecretValue,
    token: string | undefined,
    stages: readonly string[] | undefined,
  ): SecretVersion {
    const versionId = checkToken(token);
    const existing = secret.versions.find((v) => v.versionId === versionId);
    if (existing) {
      if (sameValue(existing.value, value)) return existing;
      throw new AwsServiceError(
        'ResourceExistsException',
        "You can't modify an existing version, you can only create a new version.",
      );
    }
    if (stages !== undefined && stages.length === 0) {
      throw validationError('versionStages', 'Member must have length greater than or equal to 1', '[]');
    }
    const labels = [...(stages ?? [AWSCURRENT])];
    // The first value of a secret is its current value, whatever labels were asked for.
    if (!secret.versions.some((v) => v.stages.includes(AWSCURRENT)) && !labels.includes(AWSCURRENT)) {
      labels.push(AWSCURRENT);
    }
    return this.#addVersion(secret, value, versionId, labels);
  }

  /** The version GetSecretValue reads: by VersionId and/or staging label (default AWSCURRENT). */
  public read(secret: Secret, versionId: string | undefined, stage: string | undefined): SecretVersion {
    let version: SecretVersion | undefined;
    if (versionId !== undefined) {
      version = secret.versions.find((v) => v.versionId === versionId);
      if (!version) {
        throw new AwsServiceError(
          'ResourceNotFoundException',
          `Secrets Manager can't find the specified secret value for VersionId: ${versionId}`,
        );
      }
      if (stage !== undefined && !version.stages.includes(stage)) {
        throw new AwsServiceError(
          'InvalidRequestException',
          'You provided a VersionStage that is not associated to the provided VersionId.',
        );
      }
    } else {
      const label = stage ?? AWSCURRENT;
      version = secret.versions.find((v) => v.stages.includes(label));
      if (!version) {
        throw new AwsServiceError(
          'ResourceNotFoundException',
          `Secrets Manager can't find the specified secret value for staging label: ${label}`,
        );
      }
    }
    // AWS records access dates to the day.
    const today = new Date(new Date().toISOString().slice(0, 10));
    version.lastAccessedDate = today;
    secret.lastAccessedDate = today;
    return version;
  }

  /**
   * UpdateSecretVersionStage: moves `stage` to `moveTo` and/or removes it from `removeFrom`. A
   * label attached elsewhere must be named in `removeFrom` (AWS refuses to move it silently), and
   * AWSCURRENT can only be moved, never removed.
   */
  public moveStage(
    secret: Secret,
    stage: string | undefined,
    moveTo: string | undefined,
    removeFrom: string | undefined,
  ): void {
    if (!stage) throw validationError('versionStage', 'Member must not be null', 'null');
    const find = (id: string): SecretVersion => {
      checkToken(id);
      const version = secret.versions.find((v) => v.versionId === id);
      if (!version) throw new AwsServiceError('InvalidParameterException', `Not a valid version: ${id}`);
      return version;
    };
    const target = moveTo !== undefined ? find(moveTo) : undefined;
    const source = removeFrom !== undefined ? find(removeFrom) : undefined;
    const holder = secret.versions.find((v) => v.stages.includes(stage));
    if (source && source !== holder) {
      throw new AwsServiceError(
        'InvalidParameterException',
        `Version stage ${stage} not found in version ${source.versionId}`,
      );
    }
    if (target && holder && holder !== target && !source) {
      throw new AwsServiceError(
        'InvalidParameterException',
        `The parameter RemoveFromVersionId can't be empty. Staging label ${stage} is currently attached to version ${holder.versionId}, so you must explicitly reference that version in RemoveFromVersionId.`,
      );
    }
    if (stage === AWSCURRENT && !target) {
      throw new AwsServiceError(
        'InvalidParameterException',
        "You can only move staging label AWSCURRENT to a different secret version. It can't be completely removed.",
      );
    }
    if (target) attach(secret, target, stage);
    else if (source) source.stages = source.stages.filter((s) => s !== stage);
    secret.lastChangedDate = new Date();
  }

  public list(): Secret[] {
    return [...this.#byName.values()];
  }

  #addVersion(
    secret: Secret,
    value: SecretValue,
    versionId: string,
    stages: readonly string[],
  ): SecretVersion {
    checkValue(value);
    const version: SecretVersion = { versionId, value, createdDate: new Date(), stages: [] };
    secret.versions.push(version);
    for (const stage of stages) attach(secret, version, stage);
    secret.lastChangedDate = version.createdDate;
    return version;
  }

  #arnPrefix(name: string): string {
    return `arn:aws:secretsmanager:${this.#region}:${this.#accountId}:secret:${name}`;
  }
}

/** Puts `stage` on `version` alone; AWSCURRENT leaving a version leaves AWSPREVIOUS behind. */
function attach(secret: Secret, version: SecretVersion, stage: string): void {
  const previous = secret.versions.find((v) => v !== version && v.stages.includes(stage));
  if (previous) previous.stages = previous.stages.filter((s) => s !== stage);
  if (!version.stages.includes(stage)) version.stages.push(stage);
  if (stage === AWSCURRENT && previous) {
    for (const v of secret.versions) v.stages = v.stages.filter((s) => s !== AWSPREVIOUS);
    previous.stages.push(AWSPREVIOUS);
  }
}

/** A version id: the client's idempotency token (32 to 64 characters), or a fresh UUID. */
function checkToken(token: string | undefined): string {
  if (token === undefined) return randomUUID();
  if (token.length < 32) {
    throw validationError('clientRequestToken', 'Member must have length greater than or equal to 32', token);
  }
  if (token.length > 64) {
    throw validationError('clientRequestToken', 'Member must have length less than or equal to 64', token);
  }
  return token;
}

/**
 * The value quota is in bytes (a SecretString of multi-byte characters reaches it before 65,536
 * characters); the value is never echoed in the message, as AWS never echoes a secret.
 */
function checkValue(value: SecretValue): void {
  const [member, bytes] =
    'secretString' in value
      ? ['secretString', Buffer.byteLength(value.secretString, 'utf8')]
      : ['secretBinary', value.secretBinary.byteLength];
  if (bytes > MAX_SECRET_VALUE_BYTES) {
    throw validationError(member, `Member must have length less than or equal to ${MAX_SECRET_VALUE_BYTES}`);
  }
  if (bytes < 1) throw validationError(member, 'Member must have length greater than or equal to 1');
}

function sameValue(a: SecretValue, b: SecretValue): boolean {
  if ('secretString' in a) return 'secretString' in b && a.secretString === b.secretString;
  return 'secretBinary' in b && Buffer.from(a.secretBinary).equals(Buffer.from(b.secretBinary));
}

function randomSuffix(): string {
  let out = '';
  for (let i = 0; i < 6; i++) out += SUFFIX_CHARS[randomInt(SUFFIX_CHARS.length)];
  return out;
}
