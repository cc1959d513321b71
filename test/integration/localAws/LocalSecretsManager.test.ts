import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  InvalidParameterException,
  InvalidRequestException,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  SecretsManagerClient,
  SecretsManagerServiceException,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalSecretsManager } from '../../../local/aws/LocalSecretsManager.ts';

const credentials = { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'not-a-secret' };
const ARN_SHAPE = /^arn:aws:secretsmanager:eu-west-1:111122223333:secret:(.+)-[A-Za-z0-9]{6}$/;

/** The error a promise rejects with (fails the test if it resolves). */
async function rejection(promise: Promise<unknown>): Promise<SecretsManagerServiceException> {
  try {
    await promise;
  } catch (err) {
    return err as SecretsManagerServiceException;
  }
  throw new Error('expected the call to fail');
}

describe('LocalSecretsManager (Secrets Manager wire protocol, through the real SDK client)', () => {
  const local = new LocalSecretsManager({
    region: 'eu-west-1',
    accountId: '111122223333',
    secrets: [
      { name: 'writeback/hubspot', value: '{"token":"pat-1"}' },
      { name: 'writeback/binary', value: new Uint8Array([0, 1, 2, 255]) },
    ],
  });
  let client: SecretsManagerClient;

  beforeAll(async () => {
    const endpoint = await local.start();
    client = new SecretsManagerClient({ endpoint, region: 'eu-west-1', credentials });
  });
  afterAll(async () => {
    client?.destroy();
    await local.stop();
  });

  it('reads a seeded secret by name, by full ARN and by partial ARN (no 6-character suffix)', async () => {
    const arn = local.arnOf('writeback/hubspot');
    expect(arn).toMatch(ARN_SHAPE);
    const partial = arn.slice(0, -7);

    for (const secretId of ['writeback/hubspot', arn, partial]) {
      const out = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
      expect(out).toMatchObject({
        ARN: arn,
        Name: 'writeback/hubspot',
        SecretString: '{"token":"pat-1"}',
        VersionStages: ['AWSCURRENT'],
      });
      expect(out.CreatedDate).toBeInstanceOf(Date);
    }
  });

  it('serves Powertools SecretsProvider (what functions/secrets.ts reads secrets through)', async () => {
    const provider = new SecretsProvider({ awsSdkV3Client: client });

    const parsed = await provider.get('writeback/hubspot', { transform: 'json' });
    const binary = await provider.get('writeback/binary');

    expect(parsed).toEqual({ token: 'pat-1' });
    expect(binary).toEqual(new Uint8Array([0, 1, 2, 255]));
  });

  it('answers an unknown secret with the typed ResourceNotFoundException, HTTP 400', async () => {
    const err = await rejection(client.send(new GetSecretValueCommand({ SecretId: 'writeback/nope' })));

    expect(err).toBeInstanceOf(ResourceNotFoundException);
    expect(err.message).toBe("Secrets Manager can't find the specified secret.");
    expect(err.$metadata.httpStatusCode).toBe(400);
    expect(err.$metadata.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('PutSecretValue makes the new version AWSCURRENT and the old one AWSPREVIOUS; a third deprecates the first', async () => {
    const { VersionId: v1 } = await client.send(
      new CreateSecretCommand({ Name: 'rotating', SecretString: 'one' }),
    );
    const { VersionId: v2, VersionStages } = await client.send(
      new PutSecretValueCommand({ SecretId: 'rotating', SecretString: 'two' }),
    );
    expect(VersionStages).toEqual(['AWSCURRENT']);

    const current = await client.send(new GetSecretValueCommand({ SecretId: 'rotating' }));
    const previous = await client.send(
      new GetSecretValueCommand({ SecretId: 'rotating', VersionStage: 'AWSPREVIOUS' }),
    );
    expect([current.SecretString, current.VersionId]).toEqual(['two', v2]);
    expect([previous.SecretString, previous.VersionId]).toEqual(['one', v1]);

    const { VersionId: v3 } = await client.send(
      new PutSecretValueCommand({ SecretId: 'rotating', SecretString: 'three' }),
    );
    const described = await client.send(new DescribeSecretCommand({ SecretId: 'rotating' }));
    expect(described.VersionIdsToStages).toEqual({
      [v2 as string]: ['AWSPREVIOUS'],
      [v3 as string]: ['AWSCURRENT'],
    });

    const listed = await client.send(new ListSecretVersionIdsCommand({ SecretId: 'rotating' }));
    const withDeprecated = await client.send(
      new ListSecretVersionIdsCommand({ SecretId: 'rotating', IncludeDeprecated: true }),
    );
    expect(listed.Versions?.map((v) => v.VersionId)).toEqual([v2, v3]);
    expect(withDeprecated.Versions?.map((v) => [v.VersionId, v.VersionStages])).toEqual([
      [v1, []],
      [v2, ['AWSPREVIOUS']],
      [v3, ['AWSCURRENT']],
    ]);
    // A deprecated version stays readable by its id.
    const first = await client.send(new GetSecretValueCommand({ SecretId: 'rotating', VersionId: v1 }));
    expect(first.SecretString).toBe('one');
    expect(local.versions('rotating').map((v) => v.secretString)).toEqual(['one', 'two', 'three']);
  });

  it('PutSecretValue is idempotent on ClientRequestToken: same value is a no-op, another value is refused', async () => {
    await client.send(new CreateSecretCommand({ Name: 'idempotent', SecretString: 'a' }));
    const token = 'f3b2c1d0-0000-4000-8000-000000000001';

    const first = await client.send(
      new PutSecretValueCommand({ SecretId: 'idempotent', SecretString: 'b', ClientRequestToken: token }),
    );
    const again = await client.send(
      new PutSecretValueCommand({ SecretId: 'idempotent', SecretString: 'b', ClientRequestToken: token }),
    );
    const err = await rejection(
      client.send(
        new PutSecretValueCommand({ SecretId: 'idempotent', SecretString: 'c', ClientRequestToken: token }),
      ),
    );

    expect(first.VersionId).toBe(token);
    expect(again.VersionId).toBe(token);
    expect(local.versions('idempotent').map((v) => [v.secretString, v.stages])).toEqual([
      ['a', ['AWSPREVIOUS']],
      ['b', ['AWSCURRENT']],
    ]);
    expect(err).toBeInstanceOf(ResourceExistsException);
    expect(err.message).toBe("You can't modify an existing version, you can only create a new version.");
  });

  it('CreateSecret answers an ARN with a 6-character suffix, and refuses an existing name', async () => {
    const created = await client.send(new CreateSecretCommand({ Name: 'fresh/one', SecretString: 'x' }));
    const err = await rejection(
      client.send(new CreateSecretCommand({ Name: 'fresh/one', SecretString: 'y' })),
    );

    expect(created.ARN).toMatch(ARN_SHAPE);
    expect(created.ARN?.match(ARN_SHAPE)?.[1]).toBe('fresh/one');
    expect(err).toBeInstanceOf(ResourceExistsException);
    expect(err.message).toBe('The operation failed because the secret fresh/one already exists.');
  });

  it('reads by VersionId, refusing a stage the version does not carry and an unknown version', async () => {
    const { VersionId } = await client.send(
      new CreateSecretCommand({ Name: 'by-version', SecretString: 'v' }),
    );

    const mismatch = await rejection(
      client.send(
        new GetSecretValueCommand({ SecretId: 'by-version', VersionId, VersionStage: 'AWSPREVIOUS' }),
      ),
    );
    const unknown = await rejection(
      client.send(
        new GetSecretValueCommand({
          SecretId: 'by-version',
          VersionId: '00000000-0000-4000-8000-00000000dead',
        }),
      ),
    );
    const noStage = await rejection(
      client.send(new GetSecretValueCommand({ SecretId: 'by-version', VersionStage: 'AWSPENDING' })),
    );

    expect(mismatch).toBeInstanceOf(InvalidRequestException);
    expect(unknown).toBeInstanceOf(ResourceNotFoundException);
    expect(unknown.message).toBe(
      "Secrets Manager can't find the specified secret value for VersionId: 00000000-0000-4000-8000-00000000dead",
    );
    expect(noStage.message).toBe(
      "Secrets Manager can't find the specified secret value for staging label: AWSPENDING",
    );
  });

  it('rotation: a pending version keeps AWSCURRENT until UpdateSecretVersionStage moves it, naming where from', async () => {
    const { VersionId: old } = await client.send(
      new CreateSecretCommand({ Name: 'oauth', SecretString: 'old' }),
    );
    const { VersionId: pending } = await client.send(
      new PutSecretValueCommand({ SecretId: 'oauth', SecretString: 'new', VersionStages: ['AWSPENDING'] }),
    );
    expect((await client.send(new GetSecretValueCommand({ SecretId: 'oauth' }))).SecretString).toBe('old');

    const unnamed = await rejection(
      client.send(
        new UpdateSecretVersionStageCommand({
          SecretId: 'oauth',
          VersionStage: 'AWSCURRENT',
          MoveToVersionId: pending,
        }),
      ),
    );
    const removed = await rejection(
      client.send(
        new UpdateSecretVersionStageCommand({
          SecretId: 'oauth',
          VersionStage: 'AWSCURRENT',
          RemoveFromVersionId: old,
        }),
      ),
    );
    expect(unnamed).toBeInstanceOf(InvalidParameterException);
    expect(unnamed.message).toBe(
      `The parameter RemoveFromVersionId can't be empty. Staging label AWSCURRENT is currently attached to version ${old}, so you must explicitly reference that version in RemoveFromVersionId.`,
    );
    expect(removed).toBeInstanceOf(InvalidParameterException);

    await client.send(
      new UpdateSecretVersionStageCommand({
        SecretId: 'oauth',
        VersionStage: 'AWSCURRENT',
        MoveToVersionId: pending,
        RemoveFromVersionId: old,
      }),
    );
    await client.send(
      new UpdateSecretVersionStageCommand({
        SecretId: 'oauth',
        VersionStage: 'AWSPENDING',
        RemoveFromVersionId: pending,
      }),
    );

    expect((await client.send(new GetSecretValueCommand({ SecretId: 'oauth' }))).SecretString).toBe('new');
    expect(local.versions('oauth').map((v) => [v.secretString, v.stages])).toEqual([
      ['old', ['AWSPREVIOUS']],
      ['new', ['AWSCURRENT']],
    ]);
  });

  it('accepts a value of exactly 65,536 bytes and refuses one byte more (counted in UTF-8 bytes)', async () => {
    await client.send(new CreateSecretCommand({ Name: 'big', SecretString: 'x'.repeat(65_536) }));

    const ascii = await rejection(
      client.send(new PutSecretValueCommand({ SecretId: 'big', SecretString: 'x'.repeat(65_537) })),
    );
    // 32,769 two-byte characters: under 65,536 characters, over 65,536 bytes.
    const multibyte = await rejection(
      client.send(new PutSecretValueCommand({ SecretId: 'big', SecretString: 'é'.repeat(32_769) })),
    );

    for (const err of [ascii, multibyte]) {
      expect(err).toBeInstanceOf(SecretsManagerServiceException);
      expect(err.name).toBe('ValidationException');
      expect(err.$metadata.httpStatusCode).toBe(400);
      expect(err.message).toBe(
        "1 validation error detected: Value at 'secretString' failed to satisfy constraint: Member must have length less than or equal to 65536",
      );
    }
    expect(local.versions('big')).toHaveLength(1);
  });
});
