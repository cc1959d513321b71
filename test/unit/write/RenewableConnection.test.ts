import { describe, expect, it } from 'vitest';
import type { Connector } from '../../../shared/connectors/Connector.ts';
import type { ConnectionCredentials } from '../../../shared/connectors/createConnector.ts';
import { RenewableConnection } from '../../../shared/write/RenewableConnection.ts';

/** A connector that only remembers the token it was built with and whether it was closed. */
const fakeConnector = (creds: ConnectionCredentials) =>
  ({
    type: 'fake',
    token: creds.token,
    closed: false,
    close: async function (this: { closed: boolean }) {
      this.closed = true;
    },
  }) as unknown as Connector & { token: string; closed: boolean };

/** A secret store: the value now, and every read with whether it skipped the cache. */
function secretStore(initial: string) {
  const store = { value: initial, reads: [] as boolean[], failing: false };
  const read = async ({ fresh }: { fresh: boolean }): Promise<ConnectionCredentials> => {
    store.reads.push(fresh);
    if (store.failing) throw new Error('Secrets Manager throttled');
    return { token: store.value, baseUrl: 'http://127.0.0.1:1' };
  };
  return { store, read };
}

describe('Class: RenewableConnection', () => {
  it('keeps its connector while the credentials stay the same, and rebuilds it (closing the old one) when they change', async () => {
    // Prepare
    const { store, read } = secretStore('token-1');
    const conn = new RenewableConnection({ name: 'writeback/fake', read, build: fakeConnector });
    // Act
    const first = await conn.current();
    const again = await conn.current();
    store.value = 'token-2';
    const rotated = await conn.current();
    // Assess
    expect(again).toBe(first);
    expect(rotated).not.toBe(first);
    expect(rotated).toMatchObject({ token: 'token-2' });
    await Promise.resolve();
    expect(first).toMatchObject({ closed: true });
    expect(store.reads).toEqual([false, false, false]);
  });

  it('reads past the cache on reconnect, and gives the same connector when the secret did not change', async () => {
    // Prepare
    const { store, read } = secretStore('revoked');
    const conn = new RenewableConnection({ name: 'writeback/fake', read, build: fakeConnector });
    const before = await conn.current();
    // Act
    const same = await conn.reconnect();
    store.value = 'new';
    const renewed = await conn.reconnect();
    // Assess
    expect(same).toBe(before);
    expect(renewed).toMatchObject({ token: 'new' });
    expect(store.reads).toEqual([false, true, true]);
  });

  it('starts from the connector built at a cold start, and keeps it when a cached read fails later', async () => {
    // Prepare
    const { store, read } = secretStore('token-1');
    const initial = fakeConnector({ token: 'token-1', baseUrl: 'http://127.0.0.1:1' });
    const conn = new RenewableConnection({
      name: 'writeback/fake',
      read,
      build: fakeConnector,
      initial: { creds: { baseUrl: 'http://127.0.0.1:1', token: 'token-1' }, connector: initial },
    });
    // Act
    const first = await conn.current();
    store.failing = true;
    const whileFailing = await conn.current();
    // Assess: no rebuild for the same credentials (in any field order); a failed re-read past the cache throws
    expect(first).toBe(initial);
    expect(whileFailing).toBe(initial);
    await expect(conn.reconnect()).rejects.toThrow('throttled');
  });
});
