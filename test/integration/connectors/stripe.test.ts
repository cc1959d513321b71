import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type StripeFake, startStripeFake } from '../../../local/fakes/stripe/StripeFake.ts';
import type { UpsertRecord } from '../../../shared/connectors/Connector.ts';
import { fromStripeForm, toStripeForm } from '../../../shared/connectors/stripe/formEncoding.ts';
import { StripeConnector } from '../../../shared/connectors/stripe/StripeConnector.ts';
import { failure, success } from '../../helpers/connectorResults.ts';

const CREATE = { method: 'POST', path: /^\/v1\/customers$/ };
const SEARCH = { method: 'GET', path: '/v1/customers/search' };

const rec = (key: string, payload: Record<string, unknown>, version = 1): UpsertRecord => ({
  key,
  externalId: `c-${key}`,
  idempotencyKey: `customers:${key}:${version}`,
  payload,
});

describe('StripeConnector against the Stripe fake', () => {
  let fake: StripeFake;
  const connector = (extra: Partial<ConstructorParameters<typeof StripeConnector>[0]> = {}) =>
    new StripeConnector({ baseUrl: fake.url, apiKey: fake.apiKey, rateLimit: false, retry: false, ...extra });

  beforeAll(async () => {
    // Search sees a write a minute later, as Stripe documents for normal operation.
    fake = await startStripeFake({ rateLimit: false, searchLagMs: 60_000 });
  });
  afterAll(() => fake.stop());
  beforeEach(() => fake.reset());

  it('creates a customer carrying our external id in metadata, and updates it by id', async () => {
    const stripe = connector();
    const [created] = await stripe.upsertBatch('customers', [
      rec('1', { name: 'Ada', email: 'ada@example.com', phone: '555' }),
    ]);
    const [updated] = await stripe.upsertBatch('customers', [
      { ...rec('1', { name: 'Ada L', phone: null }, 2), targetId: success(created).targetId },
    ]);

    expect(success(created).created).toBe(true);
    expect(success(updated)).toMatchObject({ created: false, targetId: success(created).targetId });
    expect(fake.byMetadata('customers', 'writeback_id', 'c-1')).toEqual([
      expect.objectContaining({
        name: 'Ada L',
        email: 'ada@example.com',
        phone: null,
        metadata: { writeback_id: 'c-1' },
      }),
    ]);
    expect(fake.calls(CREATE)[0]?.headers['idempotency-key']).toMatch(/^wb-[0-9a-f]{40}$/);
  });

  it('finds a customer created a moment ago although search does not show it yet', async () => {
    // Prepare: written by another writer; this connector has no memory of it.
    await connector().upsertBatch('customers', [rec('1', { name: 'Ada' })]);
    const other = connector();

    // Act
    const found = await other.lookup('customers', 'c-1');

    // Assess
    expect(found).toMatchObject({ externalId: 'c-1', fields: { name: 'Ada' } });
    expect(fake.callCount(SEARCH)).toBe(1);
    expect(fake.calls({ method: 'GET', path: /^\/v1\/customers$/ })[0]?.query).toHaveProperty('created[gte]');
  });

  it('after a lost answer, a newer version updates the customer created then instead of creating another', async () => {
    // Prepare: the create lands but its answer is lost.
    fake.dropNext(1, { match: CREATE, applyFirst: true });
    const [lost] = await connector().upsertBatch('customers', [rec('1', { name: 'Ada' })]);
    expect(failure(lost).disposition).toBe('retryable');

    // Act: a newer version of the row arrives at another writer, still with no target id.
    const [r] = await connector().upsertBatch('customers', [rec('1', { name: 'Ada Lovelace' }, 2)]);

    // Assess
    expect(success(r).created).toBe(false);
    expect(fake.byMetadata('customers', 'writeback_id', 'c-1').map((c) => c.name)).toEqual(['Ada Lovelace']);
  });

  it('replays the same create from its Idempotency-Key and reports it as not created', async () => {
    const stripe = connector();
    const [first] = await stripe.upsertBatch('customers', [rec('1', { name: 'Ada' })]);
    const [again] = await connector().upsertBatch('customers', [rec('1', { name: 'Ada' })]);

    expect(success(again)).toMatchObject({ targetId: success(first).targetId, created: false });
    expect(fake.stats().idempotentReplays).toBe(1);
  });

  it('resolves an invoice’s customer by our external id, and waits when the parent is not there yet', async () => {
    const stripe = connector();
    const [orphan] = await stripe.upsertBatch('invoices', [
      {
        key: 'i0',
        externalId: 'inv-0',
        idempotencyKey: 'inv:0:1',
        payload: { customerExternalId: 'c-9', description: 'x' },
      },
    ]);
    const [customer] = await stripe.upsertBatch('customers', [rec('1', { name: 'Ada' })]);
    const [invoice] = await stripe.upsertBatch('invoices', [
      {
        key: 'i1',
        externalId: 'inv-1',
        idempotencyKey: 'inv:1:1',
        payload: { customerExternalId: 'c-1', description: 'March' },
      },
    ]);

    expect(failure(orphan)).toMatchObject({ code: 'STRIPE_PARENT_NOT_FOUND', disposition: 'retryable' });
    expect(success(invoice).created).toBe(true);
    expect(fake.byMetadata('invoices', 'writeback_id', 'inv-1')).toEqual([
      expect.objectContaining({
        customer: success(customer).targetId,
        description: 'March',
        status: 'draft',
      }),
    ]);
  });

  it('deletes customers as its archive, and forgets them in reads', async () => {
    const stripe = connector();
    const [c] = await stripe.upsertBatch('customers', [rec('1', { name: 'Ada' })]);

    const [archived] = await stripe.archive('customers', [success(c).targetId]);

    expect(success(archived).targetId).toBe(success(c).targetId);
    expect(await stripe.get('customers', success(c).targetId)).toBeUndefined();
    expect(fake.objects('customers')).toHaveLength(0);
  });

  it('classifies an invalid email as permanent, and a wrong key as STRIPE_UNAUTHORIZED without the key', async () => {
    const [bad] = await connector().upsertBatch('customers', [rec('1', { name: 'A', email: 'nope' })]);
    const [denied] = await connector({ apiKey: 'sk_test_wrong_key_0123456789' }).upsertBatch('customers', [
      rec('2', { name: 'B' }),
    ]);

    expect(failure(bad)).toMatchObject({
      code: 'STRIPE_INVALID_REQUEST',
      disposition: 'permanent',
      httpStatus: 400,
    });
    expect(failure(bad).message).toContain('Invalid email address: nope');
    expect(failure(denied)).toMatchObject({ code: 'STRIPE_UNAUTHORIZED', disposition: 'permanent' });
    expect(failure(denied).message).not.toContain('sk_test_wrong_key_0123456789');
  });
});

describe('the Stripe fake', () => {
  let fake: StripeFake;
  beforeAll(async () => {
    fake = await startStripeFake({ rateLimit: { perEndpoint: 3 } });
  });
  afterAll(() => fake.stop());

  it('answers 429 rate_limit past the per-endpoint limit of a second', async () => {
    const post = () =>
      fetch(`${fake.url}/v1/customers`, {
        method: 'POST',
        headers: {
          Authorization: `Bearer ${fake.apiKey}`,
          'Content-Type': 'application/x-www-form-urlencoded',
        },
        body: 'name=x',
      });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await post()).status);
    const limited = await post();

    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(await limited.json()).toMatchObject({
      error: { code: 'rate_limit', type: 'invalid_request_error' },
    });
  });

  it('encodes and decodes Stripe’s bracketed form parameters', () => {
    const form = toStripeForm({ name: 'Ada', phone: null, metadata: { a: '1' }, items: [{ price: 'p_1' }] });
    expect(form.toString()).toBe('name=Ada&phone=&metadata%5Ba%5D=1&items%5B0%5D%5Bprice%5D=p_1');
    expect(fromStripeForm(form.toString())).toEqual({
      name: 'Ada',
      phone: '',
      metadata: { a: '1' },
      items: [{ price: 'p_1' }],
    });
  });
});
