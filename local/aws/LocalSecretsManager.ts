import { AwsServiceError } from './awsErrors.ts';
import { type AwsHttpRequest, type AwsHttpResponse, headerValue, LocalHttpServer } from './httpServer.ts';
import { type Secret, SecretStore, type SecretValue, type SecretVersion } from './secretStore.ts';

export interface SeedSecret {
  readonly name: string;
  /** A string is a SecretString, bytes a SecretBinary. */
  readonly value: string | Uint8Array;
  readonly description?: string;
  /** The complete ARN, when a template already names the secret by it. */
  readonly arn?: string;
}

export interface LocalSecretsManagerOptions {
  readonly region?: string;
  readonly accountId?: string;
  readonly secrets?: readonly SeedSecret[];
}

/** A version as tests read it back. */
export interface SecretVersionView {
  readonly versionId: string;
  readonly stages: readonly string[];
  readonly secretString?: string;
  readonly secretBinary?: Uint8Array;
  readonly createdDate: Date;
}

type Json = Record<string, unknown>;
type Operation = (input: Json) => Json;

/**
 * Secrets Manager on a loopback port, speaking its wire protocol (awsJson1_1: `POST /`,
 * `X-Amz-Target: secretsmanager.<Operation>`, JSON in and out, errors as `{__type, Message}`
 * with HTTP 400), so the real SDK client and Powertools' SecretsProvider reach it through
 * `AWS_ENDPOINT_URL_SECRETS_MANAGER`. Operations: CreateSecret, GetSecretValue, PutSecretValue,
 * DescribeSecret, ListSecretVersionIds, UpdateSecretVersionStage. Requests are not
 * signature-checked.
 */
export class LocalSecretsManager {
  readonly #store: SecretStore;
  readonly #server: LocalHttpServer;
  readonly #operations: Readonly<Record<string, Operation>>;

  public constructor(opts: LocalSecretsManagerOptions = {}) {
    this.#store = new SecretStore({
      region: opts.region ?? 'us-east-1',
      accountId: opts.accountId ?? '123456789012',
    });
    for (const seed of opts.secrets ?? []) this.seed(seed);
    this.#server = new LocalHttpServer((req) => this.#handle(req));
    this.#operations = {
      CreateSecret: (i) => this.#createSecret(i),
      GetSecretValue: (i) => this.#getSecretValue(i),
      PutSecretValue: (i) => this.#putSecretValue(i),
      DescribeSecret: (i) => this.#describeSecret(i),
      ListSecretVersionIds: (i) => this.#listSecretVersionIds(i),
      UpdateSecretVersionStage: (i) => this.#updateSecretVersionStage(i),
    };
  }

  /** Resolves to the endpoint URL, `http://127.0.0.1:<port>`. */
  public start(): Promise<string> {
    return this.#server.start();
  }

  public stop(): Promise<void> {
    return this.#server.stop();
  }

  /** Creates a secret with one (AWSCURRENT) version; returns its ARN. */
  public seed(seed: SeedSecret): string {
    const value: SecretValue =
      typeof seed.value === 'string' ? { secretString: seed.value } : { secretBinary: seed.value };
    return this.#store.create({ name: seed.name, value, description: seed.description, arn: seed.arn }).secret
      .arn;
  }

  /** The ARN of a secret, by any SecretId form. */
  public arnOf(secretId: string): string {
    return this.#store.resolve(secretId).arn;
  }

  /** Every version of a secret, oldest first, deprecated ones included. */
  public versions(secretId: string): SecretVersionView[] {
    return this.#store.resolve(secretId).versions.map((v) => ({
      versionId: v.versionId,
      stages: [...v.stages],
      ...('secretString' in v.value
        ? { secretString: v.value.secretString }
        : { secretBinary: v.value.secretBinary }),
      createdDate: v.createdDate,
    }));
  }

  #handle(req: AwsHttpRequest): AwsHttpResponse {
    try {
      const target = headerValue(req.headers, 'x-amz-target') ?? '';
      const [prefix, name] = target.split('.');
      const operation = prefix === 'secretsmanager' && name ? this.#operations[name] : undefined;
      if (!operation || req.method !== 'POST') {
        throw new AwsServiceError('UnknownOperationException', `The operation ${target} is not supported.`);
      }
      return json(200, operation(parseBody(req.body)));
    } catch (err) {
      if (!(err instanceof AwsServiceError)) throw err;
      return json(err.status, { __type: err.code, Message: err.message });
    }
  }

  #createSecret(input: Json): Json {
    const { secret, version } = this.#store.create({
      name: str(input, 'Name'),
      value: secretValueIn(input),
      versionId: str(input, 'ClientRequestToken'),
      description: str(input, 'Description'),
      tags: input.Tags as Secret['tags'],
    });
    return { ARN: secret.arn, Name: secret.name, ...(version ? { VersionId: version.versionId } : {}) };
  }

  #getSecretValue(input: Json): Json {
    const secret = this.#store.resolve(str(input, 'SecretId'));
    const version = this.#store.read(secret, str(input, 'VersionId'), str(input, 'VersionStage'));
    return {
      ARN: secret.arn,
      Name: secret.name,
      VersionId: version.versionId,
      ...('secretString' in version.value
        ? { SecretString: version.value.secretString }
        : { SecretBinary: Buffer.from(version.value.secretBinary).toString('base64') }),
      VersionStages: version.stages,
      CreatedDate: epochSeconds(version.createdDate),
    };
  }

  #putSecretValue(input: Json): Json {
    const secret = this.#store.resolve(str(input, 'SecretId'));
    const stages = input.VersionStages as string[] | undefined;
    const version = this.#store.put(
      secret,
      requiredSecretValue(input),
      str(input, 'ClientRequestToken'),
      stages,
    );
    return {
      ARN: secret.arn,
      Name: secret.name,
      VersionId: version.versionId,
      VersionStages: version.stages,
    };
  }

  #describeSecret(input: Json): Json {
    const secret = this.#store.resolve(str(input, 'SecretId'));
    // Only labelled versions: AWS treats the others as deprecated and leaves them out here.
    const labelled = secret.versions.filter((v) => v.stages.length > 0);
    return {
      ARN: secret.arn,
      Name: secret.name,
      ...(secret.description !== undefined ? { Description: secret.description } : {}),
      CreatedDate: epochSeconds(secret.createdDate),
      LastChangedDate: epochSeconds(secret.lastChangedDate),
      ...(secret.lastAccessedDate ? { LastAccessedDate: epochSeconds(secret.lastAccessedDate) } : {}),
      ...(secret.tags ? { Tags: secret.tags } : {}),
      VersionIdsToStages: Object.fromEntries(labelled.map((v) => [v.versionId, v.stages])),
    };
  }

  #listSecretVersionIds(input: Json): Json {
    const secret = this.#store.resolve(str(input, 'SecretId'));
    const all =
      input.IncludeDeprecated === true ? secret.versions : secret.versions.filter((v) => v.stages.length > 0);
    const max = typeof input.MaxResults === 'number' ? input.MaxResults : 100;
    const start = Number(str(input, 'NextToken') ?? 0);
    const page = all.slice(start, start + max);
    return {
      ARN: secret.arn,
      Name: secret.name,
      Versions: page.map(versionEntry),
      ...(start + max < all.length ? { NextToken: String(start + max) } : {}),
    };
  }

  #updateSecretVersionStage(input: Json): Json {
    const secret = this.#store.resolve(str(input, 'SecretId'));
    this.#store.moveStage(
      secret,
      str(input, 'VersionStage'),
      str(input, 'MoveToVersionId'),
      str(input, 'RemoveFromVersionId'),
    );
    return { ARN: secret.arn, Name: secret.name };
  }
}

function versionEntry(v: SecretVersion): Json {
  return {
    VersionId: v.versionId,
    VersionStages: v.stages,
    CreatedDate: epochSeconds(v.createdDate),
    ...(v.lastAccessedDate ? { LastAccessedDate: epochSeconds(v.lastAccessedDate) } : {}),
  };
}

/** The secret value of a request, if any (CreateSecret may create a secret without one). */
function secretValueIn(input: Json): SecretValue | undefined {
  const text = str(input, 'SecretString');
  const binary = str(input, 'SecretBinary');
  if (text !== undefined && binary !== undefined) {
    throw new AwsServiceError(
      'InvalidParameterException',
      "You can't specify both a binary secret value and a string secret value in the same secret.",
    );
  }
  if (text !== undefined) return { secretString: text };
  if (binary !== undefined) return { secretBinary: Buffer.from(binary, 'base64') };
  return undefined;
}

function requiredSecretValue(input: Json): SecretValue {
  const value = secretValueIn(input);
  if (!value) {
    throw new AwsServiceError(
      'InvalidRequestException',
      'You must provide either SecretString or SecretBinary.',
    );
  }
  return value;
}

function parseBody(body: Buffer): Json {
  if (body.length === 0) return {};
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'));
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return parsed as Json;
  } catch {
    // Answered below, as AWS answers a body it cannot read.
  }
  throw new AwsServiceError('SerializationException', 'Start of structure or map found where not expected.');
}

function str(input: Json, key: string): string | undefined {
  const value = input[key];
  return typeof value === 'string' ? value : undefined;
}

/** awsJson timestamps are epoch seconds, with milliseconds as the fraction. */
function epochSeconds(date: Date): number {
  return date.getTime() / 1000;
}

function json(status: number, body: Json): AwsHttpResponse {
  return {
    status,
    headers: { 'content-type': 'application/x-amz-json-1.1' },
    body: JSON.stringify(body),
  };
}
