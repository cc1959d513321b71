import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresTableConnector } from '../../../shared/connectors/postgres/PostgresTableConnector.ts';
import { startTestPostgres } from '../../helpers/localPostgres.ts';

describe('PostgresTableConnector against a real Postgres', () => {
  let db: Awaited<ReturnType<typeof startTestPostgres>>;
  let connector: PostgresTableConnector;
  const upsert = (key: string, payload: Record<string, unknown>) =>
    connector.upsertBatch('app.people', [{ key, externalId: key, idempotencyKey: key, payload }]);

  beforeAll(async () => {
    db = await startTestPostgres();
    await db.sql`create schema app`;
    await db.sql`create table app.people (ext_id text primary key, name text, age int)`;
    connector = new PostgresTableConnector({ sql: db.sql, externalIdColumn: 'ext_id' });
  });
  afterAll(async () => db?.stop());

  it('fails only the bad record of a batch, and writes the others', async () => {
    const results = await connector.upsertBatch('app.people', [
      { key: '1', externalId: '1', idempotencyKey: '1', payload: { name: 'Ada', age: 36 } },
      { key: '2', externalId: '2', idempotencyKey: '2', payload: { name: 'Bad', age: 'not a number' } },
      { key: '3', externalId: '3', idempotencyKey: '3', payload: { name: 'Grace', age: 85 } },
    ]);
    // One result per record, matched by key (the order is the connector's).
    expect(results.map((r) => [r.key, r.ok]).sort()).toEqual([
      ['1', true],
      ['2', false],
      ['3', true],
    ]);
    expect((await db.sql`select ext_id from app.people order by ext_id`).map((r) => r.ext_id)).toEqual([
      '1',
      '3',
    ]);
    const bad = results.find((r) => r.key === '2')!;
    expect(bad.ok === false && bad.error).toMatchObject({ code: 'PG_22P02', disposition: 'permanent' });
  });

  it('leaves a column out of the payload untouched, and a null clears it', async () => {
    await upsert('4', { name: 'Edsger', age: 72 });
    await upsert('4', { name: 'E. W. Dijkstra' });
    expect((await db.sql`select name, age from app.people where ext_id = '4'`)[0]).toEqual({
      name: 'E. W. Dijkstra',
      age: 72,
    });
    await upsert('4', { age: null });
    expect((await db.sql`select age from app.people where ext_id = '4'`)[0]).toEqual({ age: null });
  });

  it('writes an object into a jsonb column as an object, and dates and numbers as their types', async () => {
    await db.sql`create table app.docs (ext_id text primary key, body jsonb, due date, total numeric)`;
    await connector.upsertBatch('app.docs', [
      {
        key: 'd1',
        externalId: 'd1',
        idempotencyKey: 'd1',
        payload: { body: { ref: 'x', n: 1 }, due: new Date('2026-03-01T00:00:00Z'), total: 12.5 },
      },
    ]);
    const [row] =
      await db.sql`select body ->> 'ref' as ref, jsonb_typeof(body) as kind, due::text, total::text from app.docs`;
    expect(row).toEqual({ ref: 'x', kind: 'object', due: '2026-03-01', total: '12.5' });
  });

  it('deletes rows by target id, and deleting them again is harmless', async () => {
    await upsert('5', { name: 'Barbara' });
    expect(await connector.archive('app.people', ['5'])).toEqual([
      { key: '5', ok: true, targetId: '5', created: false },
    ]);
    expect((await connector.archive('app.people', ['5']))[0]!.ok).toBe(true);
    expect(await db.sql`select 1 from app.people where ext_id = '5'`).toHaveLength(0);
  });
});
