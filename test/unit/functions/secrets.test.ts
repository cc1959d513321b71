import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { connectionFromSecret, SECRET_MAX_AGE_SECONDS, secretReader } from '../../../functions/secrets.ts';
import type { Connector } from '../../../shared/connectors/Connector.ts';
import type { ConnectionCredentials } from '../../../shared/connectors/createConnector.ts';
import { WritebackError } from '../../../shared/errors.ts';

/**
 * Secrets Manager as the SDK client sees it, without a network: a middleware answers every
 * GetSecretValue with the store's current value (or its error), and counts the calls.
 */
function fakeSecretsManager(initial: string) {
  const store = { value: initial, calls: 0, error: undefined as Error | undefined };
  const client = new SecretsManagerClient({
    region: 'eu-west-1',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'example' },
  });
  client.middlewareStack.add(
    () => async () => {
      store.calls++;
      if (store.error) throw store.error;
      return { output: { SecretString: store.value, $metadata: {} }, response: {} };
    },
    { step: 'initialize', name: 'fakeSecretsManager' },
  );
  return { store, provider: new SecretsProvider({ awsSdkV3Client: client }) };
}

describe('Module: functions/secrets (Powertools Parameters over Secrets Manager)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('reads a secret once per time to live, and again at once when asked for a fresh read', async () => {
    // Prepare
    vi.useFakeTimers({ toFake: ['Date'] });
    const { store, provider } = fakeSecretsManager('{"token":"pat-1"}');
    const read = secretReader(provider);
    // Act
    const first = await read('writeback/hubspot');
    store.value = '{"token":"pat-2"}';
    const cached = await read('writeback/hubspot');
    const fresh = await read('writeback/hubspot', { fresh: true });
    store.value = '{"token":"pat-3"}';
    vi.advanceTimersByTime((SECRET_MAX_AGE_SECONDS + 1) * 1000);
    const expired = await read('writeback/hubspot');
    // Assess
    expect([first, cached, fresh, expired]).toEqual([
      { token: 'pat-1' },
      { token: 'pat-1' },
      { token: 'pat-2' },
      { token: 'pat-3' },
    ]);
    expect(store.calls).toBe(3);
  });

  it('takes a plain-text secret as a token', async () => {
    const { provider } = fakeSecretsManager('pat-plain');
    expect(await secretReader(provider)('writeback/plain')).toEqual({ value: 'pat-plain' });
  });

  it('names the secret and the reason when it cannot be read, never a value', async () => {
    // Prepare
    const { store, provider } = fakeSecretsManager('{"token":"pat-1"}');
    store.error = Object.assign(
      new Error('User is not authorized to perform: secretsmanager:GetSecretValue'),
      {
        name: 'AccessDeniedException',
      },
    );
    // Act
    const res = secretReader(provider)('writeback/hubspot');
    // Assess
    await expect(res).rejects.toBeInstanceOf(WritebackError);
    await expect(res).rejects.toMatchObject({
      code: 'WB_SECRET_UNREADABLE',
      message: expect.stringMatching(/writeback\/hubspot.*not authorized/),
    });
  });

  it('rebuilds the connector from the secret re-read past the cache (a refused token replaced)', async () => {
    // Prepare
    const { store, provider } = fakeSecretsManager('{"token":"revoked"}');
    const built: ConnectionCredentials[] = [];
    const conn = connectionFromSecret({
      name: 'writeback/hubspot',
      secretId: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:writeback/hubspot-AbCdEf',
      read: secretReader(provider),
      build: (creds) => {
        built.push(creds);
        return { type: 'fake', close: async () => undefined } as unknown as Connector;
      },
    });
    const before = await conn.current();
    // Act
    store.value = '{"token":"pat-new"}';
    const cached = await conn.current();
    const renewed = await conn.reconnect();
    // Assess
    expect(cached).toBe(before);
    expect(renewed).not.toBe(before);
    expect(built).toEqual([{ token: 'revoked' }, { token: 'pat-new' }]);
    expect(conn.name).toBe('writeback/hubspot');
  });
});
