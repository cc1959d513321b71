import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { DynamoLinkStore } from '../../shared/links/DynamoLinkStore.ts';
import { DynamoPairStore } from '../../shared/pair/DynamoPairStore.ts';
import { defineTwoWay } from '../../shared/pair/defineTwoWay.ts';
import { DynamoRunStartReader } from '../../shared/state/DynamoRunStartReader.ts';
import { DynamoStateStore } from '../../shared/state/DynamoStateStore.ts';
import type { RunRecord } from '../../shared/state/RunRecord.ts';
import { LINKS_TABLE } from '../../shared/state/tableDefinitions.ts';
import type { VerifyReport } from '../../shared/verify/VerifyReport.ts';
import { DynamoRateLimiter } from '../../shared/write/DynamoRateLimiter.ts';
import { arnOf, evaluate, type IamRequest, type PolicyStatement, resolveValue } from './policyEvaluator.ts';
import { buildStack, syncInput, testConfig } from './stackFixture.ts';
import { logicalId, roleStatements } from './templateQueries.ts';

/**
 * Least privilege between syncs (issue 15): each function's role holds exactly the calls its code
 * makes, and `dynamodb:LeadingKeys` keeps those calls on its own sync's items. The real stores
 * (DynamoLinkStore, DynamoStateStore, DynamoTargetHealthStore, DynamoRateLimiter) are driven
 * through a DynamoDB client that records each request instead of sending it, and each request is
 * put to the role's synthesized policy: so a new call or a changed key format fails here until the
 * grant follows (infra/tableAccess.ts).
 */

// Prepare (shared): a HubSpot sync with verify, and a parent and its verified child on a Postgres target.
const config = testConfig([
  syncInput('contacts', { verify: { table: 'hubspot.contacts', externalIdColumn: 'dwh_id' } }),
  syncInput('customers', { target: { connection: 'billing-db', object: 'billing.customers' } }),
  syncInput('invoices', {
    target: { connection: 'billing-db', object: 'billing.invoices' },
    parent: { sync: 'customers', key: 'customer_id' },
    verify: { table: 'billing.invoices_copy', externalIdColumn: 'dwh_id' },
  }),
  // A two-way pair: people-to-db reads the CRM's copy and writes the database, people-to-crm back.
  ...defineTwoWay({
    name: 'people',
    a: { name: 'crm', connection: 'hubspot', object: 'contacts', externalId: 'db_id', copy: pairCopy('crm') },
    b: { name: 'db', connection: 'billing-db', object: 'billing.people', copy: pairCopy('db') },
    fields: { email: { a: 'email', b: 'email', owner: 'both' } },
  }),
]);
function pairCopy(app: string) {
  return {
    table: `${app}.people`,
    key: 'id',
    cursor: 'loaded_at',
    modifiedAt: 'modified_at',
    stamp: 'stamp',
  };
}
const { template } = buildStack(config);

const TABLES = {
  STATE: logicalId(template, 'AWS::DynamoDB::Table', 'StateTable'),
  LINKS: logicalId(template, 'AWS::DynamoDB::Table', 'LinksTable'),
};

// ---------------------------------------------------------------------------------------------
// The requests the stores make.

type Sent = { readonly command: string; readonly input: Record<string, unknown> };

/** What DynamoDB would answer, as little as the stores accept: nothing found, every write done. */
const ANSWERS: Record<string, Record<string, unknown>> = {
  Query: { Items: [], Count: 0 },
  Scan: { Items: [], Count: 0, ScannedCount: 0 },
  BatchGetItem: { Responses: {} },
};

/** A DynamoDB client whose requests are recorded and answered here, never sent. */
function recordingClient(): { client: DynamoDBClient; sent: Sent[] } {
  const sent: Sent[] = [];
  const client = new DynamoDBClient({
    region: 'eu-west-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  client.middlewareStack.add(
    (_next, context) => async (args) => {
      const command = (context.commandName ?? '').replace(/Command$/, '');
      const input = args.input as Record<string, unknown>;
      // IAM authorizes a batch read of several tables table by table, each with its own keys.
      if (command === 'BatchGetItem') {
        for (const [table, keys] of Object.entries(input.RequestItems as object))
          sent.push({ command, input: { ...input, RequestItems: { [table]: keys } } });
      } else sent.push({ command, input });
      return { output: { $metadata: {}, ...ANSWERS[command] }, response: {} } as never;
    },
    { step: 'initialize', name: 'recordInsteadOfSend' },
  );
  return { client, sent };
}

type Attr = { S?: string };
type Key = Record<string, Attr>;

/** The partition key values a request names, as `dynamodb:LeadingKeys` holds them (none for a Scan). */
function leadingKeys({ command, input }: Sent): string[] | undefined {
  switch (command) {
    case 'GetItem':
    case 'UpdateItem':
    case 'DeleteItem':
      return [(input.Key as Key).pk!.S!];
    case 'PutItem':
      return [(input.Item as Key).pk!.S!];
    case 'BatchGetItem':
      return Object.values(input.RequestItems as Record<string, { Keys: Key[] }>).flatMap((r) =>
        r.Keys.map((k) => k.pk!.S!),
      );
    case 'Query': {
      const index = [LINKS_TABLE.attentionIndex, LINKS_TABLE.targetIndex].find(
        (i) => i.name === input.IndexName,
      );
      const partitionKey = index ? index.partitionKey : 'pk';
      const names = (input.ExpressionAttributeNames ?? {}) as Record<string, string>;
      const values = input.ExpressionAttributeValues as Record<string, Attr>;
      for (const clause of String(input.KeyConditionExpression).split(/\s+AND\s+/i)) {
        const m = /^\s*(#?\w+)\s*=\s*(:\w+)\s*$/.exec(clause);
        if (m && (names[m[1]!] ?? m[1]) === partitionKey) return [values[m[2]!]!.S!];
      }
      throw new Error(`no partition key condition in ${String(input.KeyConditionExpression)}`);
    }
    case 'Scan':
      return undefined;
    default:
      throw new Error(`leadingKeys: ${command} is not handled`);
  }
}

/** A recorded request as IAM sees it, made by the role whose logical id is given. */
function iamRequest(sent: Sent, roleId: string): IamRequest {
  const table = TABLES[sent.input.TableName as keyof typeof TABLES] ?? firstTable(sent);
  const index = sent.input.IndexName as string | undefined;
  const keys = leadingKeys(sent);
  return {
    action: `dynamodb:${sent.command}`,
    resource: `${arnOf(table)}${index ? `/index/${index}` : ''}`,
    principal: arnOf(roleId),
    context: keys ? { 'dynamodb:LeadingKeys': keys } : {},
  };
}

function firstTable(sent: Sent): string {
  const name = Object.keys(sent.input.RequestItems as object)[0] as keyof typeof TABLES;
  return TABLES[name];
}

/** A source key too long for a readable link key: the store hashes it (`<sync>~sha256:…`). */
const LONG_KEY = 'k'.repeat(3000);
const NOW = Date.parse('2026-06-01T12:00:00Z');
const position = { cursor: '2026-06-01T00:00:00Z', key: ['1'] };

/**
 * A store method that other work adds (the writers' auth outages, the operator-action history): called
 * when the store has it, so that its requests are checked here as soon as it lands.
 */
function ifPresent(store: object, method: string): ((...args: unknown[]) => Promise<unknown>) | undefined {
  const fn = (store as Record<string, unknown>)[method];
  return typeof fn === 'function' ? (...args) => fn.apply(store, args) as Promise<unknown> : undefined;
}

/** Every DynamoDB call the extract function's code path makes for a sync (infra/tableAccess.ts lists where). */
async function extractCalls(sync: string): Promise<Sent[]> {
  const { client, sent } = recordingClient();
  const state = new DynamoStateStore(client, 'STATE');
  const links = new DynamoLinkStore(client, 'LINKS');
  await new DynamoRunStartReader(client, { state: 'STATE', links: 'LINKS' }).read(sync);
  await state.get(sync);
  await state.acquireLease(sync, 'run-1', NOW, 300_000);
  await state.takeLease(sync, 'run-1', NOW, 300_000);
  await state.saveMapping(sync, 'run-1', 'fingerprint', true);
  await state.getStreamBookmark(sync, 'lines');
  await state.saveStreamBookmark(sync, 'run-1', 'lines', position);
  await state.saveProgress(sync, 'run-1', { bookmark: position, pass: { at: 'x', position } }, NOW, 300_000);
  await state.releaseLease(sync, 'run-1');
  await state.recordRun({ sync, runId: 'run-1', startedAt: '2026-06-01T12:00:00Z' } as RunRecord);
  await links.batchGet(sync, ['1', LONG_KEY], { consistent: true });
  await links.touchVersion({ sync, key: LONG_KEY, version: '2', hash: 'h', now: NOW });
  await links.listByStatus(sync, 'dead', 10);
  await links.listByStatus(sync, 'retrying', 10, '2026-06-01T11:00:00Z');
  await links.countByStatus(sync, 'failed');
  await links.markRedriven({
    sync,
    key: '1',
    seen: { status: 'dead', updatedAt: 'x' },
    runId: 'r',
    now: NOW,
  });
  await links.oldestUpdate(sync, 'pending');
  await links.health.read(sync, NOW, 120_000);
  await links.health.readGate(sync);
  await links.health.settleRedrive(sync, 0, NOW);
  return sent;
}

/** Every DynamoDB call the write function's code path makes for a sync (and its parent and connection). */
async function writeCalls(sync: string, opts: { parent?: string; connection: string }): Promise<Sent[]> {
  const { client, sent } = recordingClient();
  const links = new DynamoLinkStore(client, 'LINKS');
  await links.batchGet(sync, ['1', LONG_KEY], { consistent: true });
  if (opts.parent) await links.batchGet(opts.parent, ['7', LONG_KEY]);
  const lease = { sync, token: 't', now: NOW };
  await links.claim({ ...lease, key: LONG_KEY, version: '2', hash: 'h', runId: 'r', leaseMs: 120_000 });
  await links.get(sync, '1');
  await links.touchVersion({ sync, key: '1', version: '2', hash: 'h', now: NOW });
  await links.commit({ ...lease, key: '1', targetId: 'T'.repeat(3000), hash: 'h', version: '2' });
  await links.commitDeleted({ ...lease, key: '1', version: '3' });
  await links.recordFailure({ ...lease, key: '1', status: 'retrying', error: { code: 'X', message: 'm' } });
  await links.health.record(sync, NOW, { calls: 1, failedCalls: 0, lagMs: 5 });
  await links.health.flagRedrive(sync, NOW, NOW);
  const refusal = { code: 'HUBSPOT_UNAUTHORIZED', message: 'm', connection: opts.connection, secret: 's' };
  await ifPresent(links.health, 'recordAuthRefusal')?.(sync, NOW, refusal);
  await ifPresent(links.health, 'clearAuthRefusal')?.(sync, NOW);
  const limiter = new DynamoRateLimiter(client, 'LINKS', opts.connection, { requests: 100, perMs: 10_000 });
  await limiter.acquire(10_000);
  await limiter.backOff(1);
  return sent;
}

/** Every DynamoDB call the verify function's code path makes for a sync (and its parent). */
async function verifyCalls(sync: string, opts: { parent?: string } = {}): Promise<Sent[]> {
  const { client, sent } = recordingClient();
  const state = new DynamoStateStore(client, 'STATE');
  const links = new DynamoLinkStore(client, 'LINKS');
  await state.get(sync);
  await state.listRuns(sync, 200);
  await ifPresent(state, 'listActions')?.(sync, 200);
  await state.recordVerify({ sync, at: '2026-06-01T12:00:00Z' } as VerifyReport);
  for await (const _ of links.scan(sync)) {
    // nothing: the answer is empty
  }
  if (opts.parent) await links.batchGet(opts.parent, ['7', LONG_KEY]);
  return sent;
}

// ---------------------------------------------------------------------------------------------
// The roles.

const roleId = (prefix: string) => logicalId(template, 'AWS::IAM::Role', prefix);
const statementsOf = (prefix: string) => roleStatements(template, prefix) as unknown as PolicyStatement[];

/**
 * A role's grants, one line per action: `action resource [condition]`, with logical ids shortened
 * to their construct path and the leading keys spelled out.
 */
function grants(t: Template, rolePrefix: string): string[] {
  const short = (text: string) =>
    text
      .replace(/arn:test:::([A-Za-z]+?)[0-9A-F]{8}\b/g, '$1')
      .replace(/^arn:aws:secretsmanager:eu-west-1:123456789012:/, '');
  const lines: string[] = [];
  for (const s of roleStatements(t, rolePrefix) as unknown as PolicyStatement[]) {
    if (s.Effect !== 'Allow') throw new Error(`${rolePrefix}: unexpected ${s.Effect}`);
    const resources = [s.Resource].flat().map((r) => short(resolveValue(r)));
    const conditions = Object.entries(s.Condition ?? {}).flatMap(([op, keys]) =>
      op === 'Null' ? [] : Object.entries(keys).map(([k, v]) => `${k}=${[v].flat().join(' ')}`),
    );
    for (const action of [s.Action].flat() as string[]) {
      for (const r of resources) lines.push([action, r, ...conditions].join(' '));
    }
  }
  return lines.sort();
}

const LOGS_AND_TRACES = (fn: string) => [
  `logs:CreateLogStream ${fn}LogGroup`,
  `logs:PutLogEvents ${fn}LogGroup`,
  'xray:PutTelemetryRecords *',
  'xray:PutTraceSegments *',
];

describe('Least privilege between syncs', () => {
  describe('each function gets only the calls it makes', () => {
    it('grants the extract function its state, its links (read, mark), its attention index and health, its queue, claim checks and the warehouse secret', () => {
      expect(grants(template, 'SyncContactsExtractRole')).toEqual(
        [
          'dynamodb:BatchGetItem LinksTable dynamodb:LeadingKeys=contacts#* contacts~sha256:* ~health#contacts#*',
          'dynamodb:BatchGetItem StateTable dynamodb:LeadingKeys=sync#contacts',
          'dynamodb:GetItem StateTable dynamodb:LeadingKeys=sync#contacts',
          'dynamodb:PutItem StateTable dynamodb:LeadingKeys=sync#contacts',
          'dynamodb:Query LinksTable/index/attention dynamodb:LeadingKeys=contacts#*',
          'dynamodb:UpdateItem LinksTable dynamodb:LeadingKeys=contacts#* contacts~sha256:* ~health#contacts#*',
          'dynamodb:UpdateItem StateTable dynamodb:LeadingKeys=sync#contacts',
          's3:PutObject ClaimCheckBucket/contacts/*',
          'secretsmanager:GetSecretValue secret:writeback/dwh-??????',
          'sqs:SendMessage SyncContactsQueue',
          // The on-failure destination of its asynchronous invocations.
          'sqs:SendMessage SyncContactsScheduleDeadLetterQueue',
          ...LOGS_AND_TRACES('SyncContactsExtract'),
        ].sort(),
      );
    });

    it('grants the write function its links, health and pacing item, its queue and DLQ, claim checks and its connection secret: nothing in the state table', () => {
      expect(grants(template, 'SyncContactsWriteRole')).toEqual(
        [
          'dynamodb:BatchGetItem LinksTable dynamodb:LeadingKeys=contacts#* contacts~sha256:* ~rate#hubspot',
          'dynamodb:GetItem LinksTable dynamodb:LeadingKeys=contacts#* contacts~sha256:* ~rate#hubspot',
          'dynamodb:UpdateItem LinksTable dynamodb:LeadingKeys=contacts#* contacts~sha256:* ~health#contacts#* ~rate#hubspot',
          's3:DeleteObject ClaimCheckBucket/contacts/*',
          's3:GetObject ClaimCheckBucket/contacts/*',
          's3:ListBucket ClaimCheckBucket s3:prefix=contacts/*',
          'secretsmanager:GetSecretValue secret:writeback/hubspot-??????',
          'sqs:ChangeMessageVisibility SyncContactsQueue',
          'sqs:DeleteMessage SyncContactsQueue',
          'sqs:GetQueueAttributes SyncContactsQueue',
          'sqs:ReceiveMessage SyncContactsQueue',
          'sqs:SendMessage SyncContactsDeadLetterQueue',
          ...LOGS_AND_TRACES('SyncContactsWrite'),
        ].sort(),
      );
    });

    it("grants a child's write function its parent's links to read, not to change", () => {
      const lines = grants(template, 'SyncInvoicesWriteRole').filter((l) => l.startsWith('dynamodb:'));
      expect(lines).toEqual([
        'dynamodb:BatchGetItem LinksTable dynamodb:LeadingKeys=invoices#* invoices~sha256:* customers#* customers~sha256:* ~rate#billing-db',
        'dynamodb:GetItem LinksTable dynamodb:LeadingKeys=invoices#* invoices~sha256:* customers#* customers~sha256:* ~rate#billing-db',
        'dynamodb:UpdateItem LinksTable dynamodb:LeadingKeys=invoices#* invoices~sha256:* ~health#invoices#* ~rate#billing-db',
      ]);
    });

    it('grants the verify function its state and history, a Scan of the links, its queue for repairs and the warehouse secret', () => {
      expect(grants(template, 'SyncContactsVerifyRole')).toEqual(
        [
          'dynamodb:GetItem StateTable dynamodb:LeadingKeys=sync#contacts',
          'dynamodb:PutItem StateTable dynamodb:LeadingKeys=sync#contacts',
          'dynamodb:Query StateTable dynamodb:LeadingKeys=sync#contacts',
          'dynamodb:Scan LinksTable',
          's3:PutObject ClaimCheckBucket/contacts/*',
          'secretsmanager:GetSecretValue secret:writeback/dwh-??????',
          'sqs:SendMessage SyncContactsQueue',
          'sqs:SendMessage SyncContactsScheduleDeadLetterQueue',
          ...LOGS_AND_TRACES('SyncContactsVerify'),
        ].sort(),
      );
      expect(grants(template, 'SyncInvoicesVerifyRole')).toContain(
        'dynamodb:BatchGetItem LinksTable dynamodb:LeadingKeys=customers#* customers~sha256:*',
      );
    });

    it('grants no DeleteItem, BatchWriteItem, ConditionCheckItem, DescribeTable or stream read to any function', () => {
      for (const t of ['Contacts', 'Customers', 'Invoices']) {
        for (const fn of ['Extract', 'Write', 'Verify']) {
          if (fn === 'Verify' && t === 'Customers') continue;
          const actions = grants(template, `Sync${t}${fn}Role`)
            .map((l) => l.split(' ')[0]!)
            .filter((a) => a.startsWith('dynamodb:'));
          expect(
            actions.filter((a) => /Delete|BatchWrite|ConditionCheck|Describe|Records|Shard|Stream/.test(a)),
          ).toEqual([]);
        }
      }
    });
  });

  describe("the stores' calls, against the roles", () => {
    const cases = [
      { fn: 'extract', role: 'SyncContactsExtractRole', calls: () => extractCalls('contacts') },
      {
        fn: 'write',
        role: 'SyncInvoicesWriteRole',
        calls: () => writeCalls('invoices', { parent: 'customers', connection: 'billing-db' }),
      },
      {
        fn: 'verify',
        role: 'SyncInvoicesVerifyRole',
        calls: () => verifyCalls('invoices', { parent: 'customers' }),
      },
    ] as const;

    for (const c of cases) {
      it(`allows every call the ${c.fn} function makes for its own sync, and grants no DynamoDB action it does not use`, async () => {
        // Act
        const sent = await c.calls();
        const requests = sent.map((s) => iamRequest(s, roleId(c.role)));
        // Assess
        const statements = statementsOf(c.role);
        expect(requests.filter((r) => evaluate(r, statements) !== 'allow')).toEqual([]);
        const granted = new Set(
          statements.flatMap((s) => [s.Action].flat() as string[]).filter((a) => a.startsWith('dynamodb:')),
        );
        expect([...new Set(requests.map((r) => r.action))].sort()).toEqual([...granted].sort());
      });
    }

    it("grants each direction of a pair its pair's entity items, and its writer the partner's links, nothing of another pair", async () => {
      // Act: what planPairPage (extract) and recordPairWrite (write) send, for this pair and another
      const pairCalls = async (pair: string, partner: string) => {
        const { client, sent } = recordingClient();
        const store = new DynamoPairStore(client, 'LINKS');
        await store.batchGet(pair, ['1', LONG_KEY]);
        const read = sent.length;
        await store.recordWrite({
          pair,
          partner,
          entity: LONG_KEY,
          b: 'b-1',
          into: 'b',
          writtenId: LONG_KEY,
          readId: '1',
          agreed: { email: 'a@b.c' },
          now: NOW,
        });
        return { reads: sent.slice(0, read), writes: sent.slice(read) };
      };
      const own = await pairCalls('people', 'people-to-crm');
      const other = await pairCalls('others', 'others-to-crm');
      const verdicts = (sent: Sent[], role: string) =>
        sent.map((s) => evaluate(iamRequest(s, roleId(role)), statementsOf(role)));
      // Assess
      expect(own.writes).toHaveLength(2);
      expect(verdicts(own.reads, 'SyncPeopleToDbExtractRole')).toEqual(['allow']);
      expect(verdicts(own.writes, 'SyncPeopleToDbWriteRole')).toEqual(['allow', 'allow']);
      expect(verdicts(other.reads, 'SyncPeopleToDbExtractRole')).toEqual(['implicit-deny']);
      expect(verdicts(other.writes, 'SyncPeopleToDbWriteRole')).toEqual(['implicit-deny', 'implicit-deny']);
      // A sync that is no pair's direction gets none of it.
      expect(verdicts(own.reads, 'SyncContactsExtractRole')).toEqual(['implicit-deny']);
    });

    it('denies the extract function every item of another sync: links, hashed links, attention index, health, state and history', async () => {
      // Act: the same calls, for another sync
      const requests = (await extractCalls('customers')).map((s) =>
        iamRequest(s, roleId('SyncContactsExtractRole')),
      );
      // Assess
      expect(requests.length).toBeGreaterThan(10);
      for (const r of requests)
        expect([r.action, evaluate(r, statementsOf('SyncContactsExtractRole'))]).toEqual([
          r.action,
          'implicit-deny',
        ]);
    });

    it("denies the write function another sync's links and health, and another connection's pacing item", async () => {
      // Act: contacts' writer (HubSpot) making the calls of invoices' writer (billing-db, parent customers)
      const requests = (await writeCalls('invoices', { parent: 'customers', connection: 'billing-db' })).map(
        (s) => iamRequest(s, roleId('SyncContactsWriteRole')),
      );
      // Assess
      for (const r of requests)
        expect([r.action, evaluate(r, statementsOf('SyncContactsWriteRole'))]).toEqual([
          r.action,
          'implicit-deny',
        ]);
    });

    it("lets a child's writer read its parent's links but never change them", async () => {
      // Act: every change the write path makes, on the parent's links
      const sent = (await writeCalls('customers', { connection: 'billing-db' })).filter(
        (s) => s.command === 'UpdateItem' && !String((s.input.Key as Key).pk!.S).startsWith('~rate#'),
      );
      // Assess
      expect(sent.length).toBeGreaterThan(3);
      for (const s of sent)
        expect(
          evaluate(iamRequest(s, roleId('SyncInvoicesWriteRole')), statementsOf('SyncInvoicesWriteRole')),
        ).toBe('implicit-deny');
    });

    it("denies the verify function another sync's state and history; its Scan reads the whole links table (no leading key can limit a Scan)", async () => {
      // Act
      const requests = (await verifyCalls('customers')).map((s) =>
        iamRequest(s, roleId('SyncContactsVerifyRole')),
      );
      // Assess
      // (the Scan runs in four parallel segments: one line)
      const decisions = [
        ...new Set(requests.map((r) => `${r.action} ${evaluate(r, statementsOf('SyncContactsVerifyRole'))}`)),
      ];
      expect(decisions).toEqual([
        'dynamodb:GetItem implicit-deny',
        'dynamodb:Query implicit-deny',
        'dynamodb:PutItem implicit-deny',
        'dynamodb:Scan allow',
      ]);
    });

    it('lets no function but verify scan, and verify change no link', async () => {
      // Prepare
      const scan = (await verifyCalls('contacts')).filter((s) => s.command === 'Scan')[0]!;
      const change = (await writeCalls('contacts', { connection: 'hubspot' })).filter(
        (s) => s.command === 'UpdateItem',
      )[0]!;
      // Assess
      for (const role of ['SyncContactsExtractRole', 'SyncContactsWriteRole']) {
        expect(evaluate(iamRequest(scan, roleId(role)), statementsOf(role))).toBe('implicit-deny');
      }
      expect(
        evaluate(
          iamRequest(change, roleId('SyncContactsVerifyRole')),
          statementsOf('SyncContactsVerifyRole'),
        ),
      ).toBe('implicit-deny');
    });

    it('requires a leading key, so that a request without one (a Scan) never passes a leading-keys grant', async () => {
      // Prepare: a planted mistake, Scan added to the extract's leading-keys grant on the links table
      const scan = (await verifyCalls('contacts')).filter((s) => s.command === 'Scan')[0]!;
      const planted = statementsOf('SyncContactsExtractRole').map((s) =>
        s.Sid === 'ReadItsLinksAndHealth' ? { ...s, Action: ['dynamodb:BatchGetItem', 'dynamodb:Scan'] } : s,
      );
      const withoutGuard = planted.map((s) => {
        if (!s.Condition?.Null) return s;
        const { Null: _null, ...rest } = s.Condition;
        return { ...s, Condition: rest };
      });
      // Assess: ForAllValues alone holds for a request with no key at all
      const request = iamRequest(scan, roleId('SyncContactsExtractRole'));
      expect(evaluate(request, planted)).toBe('implicit-deny');
      expect(evaluate(request, withoutGuard)).toBe('allow');
    });
  });
});
