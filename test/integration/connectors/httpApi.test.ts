import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type HttpApiFake, startHttpApiFake } from '../../../local/fakes/http/HttpApiFake.ts';
import type { ConnectionConfig, SyncConfig } from '../../../shared/config/schema.ts';
import { ConnectionSchema } from '../../../shared/config/schema.ts';
import type { ConnectionCredentials } from '../../../shared/connectors/ConnectionCredentials.ts';
import type { UpsertRecord } from '../../../shared/connectors/Connector.ts';
import { createConnector } from '../../../shared/connectors/createConnector.ts';
import { ConfigValidationError } from '../../../shared/errors.ts';

const sync = { name: 'people', target: { connection: 'api', object: 'people' } } as unknown as SyncConfig;
const record = (key: string, payload: Record<string, unknown>): UpsertRecord => ({
  key,
  externalId: `ext-${key}`,
  idempotencyKey: `k-${key}`,
  payload,
});

/** A connection to the fake, one record per call unless `upsert` says otherwise. */
function connection(fake: HttpApiFake, extra: Record<string, unknown> = {}): ConnectionConfig {
  return ConnectionSchema.parse({
    type: 'http',
    baseUrl: fake.url,
    upsert: {
      path: '/api/{object}/{externalId}',
      body: { externalIdField: 'external_id' },
      idPath: 'data.id',
    },
    lookup: {
      path: '/api/{object}/by-external-id/{externalId}',
      recordPath: 'data',
      externalIdPath: 'external_id',
    },
    list: { path: '/api/{object}', itemsPath: 'data', nextPath: 'next_cursor' },
    rateLimit: { perSecond: 1000 },
    ...extra,
  });
}

describe('HttpApiConnector (generic HTTP, configured as data) against HttpApiFake', () => {
  let fake: HttpApiFake;
  beforeAll(async () => {
    fake = await startHttpApiFake();
  });
  afterAll(async () => {
    await fake.stop();
  });
  beforeEach(() => fake.reset());

  it('upserts one record per call with PUT {externalId}: 201 is a creation, 200 an update, the id read at idPath', async () => {
    const c = createConnector(sync, connection(fake), { token: fake.token });

    const [first] = await c.upsertBatch('people', [record('a', { name: 'Ada', email: 'ada@example.com' })]);
    const [second] = await c.upsertBatch('people', [
      record('a', { name: 'Ada L', email: 'ada@example.com' }),
    ]);

    expect(first).toMatchObject({ ok: true, created: true });
    expect(second).toMatchObject({ ok: true, created: false, targetId: first!.ok ? first!.targetId : '' });
    expect(fake.byExternalId('people', 'ext-a')).toMatchObject([{ name: 'Ada L' }]);
    expect(fake.calls({ method: 'PUT' })).toHaveLength(2);
  });

  it.each([
    ['bearer', { kind: 'bearer' }, (f: HttpApiFake) => ({ token: f.token })],
    [
      'basic',
      { kind: 'basic' },
      (f: HttpApiFake) => ({ username: f.basic.username, password: f.basic.password }),
    ],
    [
      'an API-key header',
      { kind: 'apiKey', header: 'X-Api-Key' },
      (f: HttpApiFake) => ({ apiKey: f.apiKey }),
    ],
    [
      'OAuth client credentials (client in Basic)',
      { kind: 'oauthClientCredentials', tokenUrl: 'http://placeholder/oauth/token' },
      (f: HttpApiFake) => ({ clientId: f.client.id, clientSecret: f.client.secret }),
    ],
    [
      'OAuth client credentials (client in the form)',
      { kind: 'oauthClientCredentials', tokenUrl: 'http://placeholder/oauth/token', clientAuth: 'body' },
      (f: HttpApiFake) => ({ clientId: f.client.id, clientSecret: f.client.secret }),
    ],
  ] as const)('authenticates with %s from the secret', async (_name, auth, creds) => {
    const a = 'tokenUrl' in auth ? { ...auth, tokenUrl: `${fake.url}/oauth/token` } : auth;
    const c = createConnector(sync, connection(fake, { auth: a }), creds(fake) as ConnectionCredentials);

    const [r] = await c.upsertBatch('people', [record('b', { name: 'Bo' })]);

    expect(r).toMatchObject({ ok: true });
  });

  it('refuses to build without the secret fields its auth needs, naming them', () => {
    const build = () => createConnector(sync, connection(fake, { auth: { kind: 'basic' } }), { token: 'x' });

    expect(build).toThrow(ConfigValidationError);
    expect(build).toThrow(/connections\[api\]: auth basic needs username and password in its secret/);
  });

  it('classifies a wrong credential as an auth refusal (HTTP_UNAUTHORIZED), a 422 as permanent', async () => {
    const wrong = createConnector(sync, connection(fake), { token: 'wrong' });
    const right = createConnector(sync, connection(fake), { token: fake.token });

    const [refused] = await wrong.upsertBatch('people', [record('c', { name: 'C' })]);
    const [invalid] = await right.upsertBatch('people', [record('d', { name: 'D', email: 'no' })]);

    expect(refused).toMatchObject({
      ok: false,
      error: { code: 'HTTP_UNAUTHORIZED', disposition: 'permanent' },
    });
    expect(invalid).toMatchObject({
      ok: false,
      error: { code: 'HTTP_REFUSED', disposition: 'permanent', httpStatus: 422 },
    });
  });

  it('takes a status the connection lists as retryable, and refuses one it does not', async () => {
    const lists409 = createConnector(sync, connection(fake, { retryableStatuses: [409] }), {
      token: fake.token,
    });
    const plain = createConnector(sync, connection(fake), { token: fake.token });
    // More 409s than the client's inline retries.
    fake.failNext(3, 409, { match: { method: 'PUT' } });
    const [retryable] = await lists409.upsertBatch('people', [record('e', { name: 'E' })]);
    fake.failNext(1, 409, { match: { method: 'PUT' } });
    const [permanent] = await plain.upsertBatch('people', [record('e', { name: 'E' })]);

    expect(retryable).toMatchObject({ ok: false, error: { disposition: 'retryable', httpStatus: 409 } });
    expect(permanent).toMatchObject({ ok: false, error: { disposition: 'permanent', httpStatus: 409 } });
  });

  it('matches a batch answer’s results to records by order when no result names its external id', async () => {
    const c = createConnector(
      sync,
      connection(fake, {
        upsert: {
          method: 'POST',
          path: '/api/{object}/batch',
          batchSize: 2,
          body: { externalIdField: 'external_id', wrap: 'records' },
        },
      }),
      { token: fake.token },
    );

    const results = await c.upsertBatch('people', [
      record('f', { name: 'F' }),
      record('g', { name: 'G', email: 'bad' }),
      record('h', { name: 'H' }),
    ]);

    expect(results.map((r) => [r.key, r.ok])).toEqual([
      ['f', true],
      ['g', false],
      ['h', true],
    ]);
    expect(fake.calls({ method: 'POST', path: '/batch' }).map((c) => c.elements)).toEqual([2, 1]);
  });

  it('reports every problem of a connection at once, under its path', () => {
    const parsed = ConnectionSchema.safeParse({
      type: 'http',
      baseUrl: 'not a url',
      upsert: { path: '/api/{object}/{externalId}/{nope}', batchSize: 10 },
      lookup: { path: 'no-slash' },
    });

    expect(parsed.success).toBe(false);
    const paths = parsed.error!.issues.map((i) => i.path.join('.'));
    expect(paths).toEqual(expect.arrayContaining(['baseUrl', 'upsert.path', 'lookup.path']));
  });
});
