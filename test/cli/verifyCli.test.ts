import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { DeleteItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_HUBSPOT_TOKEN, LocalStack } from '../../local/LocalStack.ts';
import { localStateOf } from '../../local/LocalStateFile.ts';
import { loadConfigFile } from '../../shared/config/loadConfig.ts';
import { writeLocalState } from '../../shared/contracts/localStateFile.ts';
import type { OperatorAction } from '../../shared/state/OperatorAction.ts';
import type { RepairResult } from '../../shared/verify/repairSync.ts';
import type { FindingKind, VerifyAnswer } from '../../shared/verify/VerifyReport.ts';

const CONFIG = 'test/cli/fixtures/verify.config.ts';
const CUSTOMERS = 60;
/** What the test breaks in HubSpot behind Writeback's back, by source key. */
const DELETED = '7';
const EDITED = '12';
const LINK_LOST = '20';
const FOREIGN = '9999';

interface VerifyJson {
  readonly clean: boolean;
  readonly copies: { table: string; records?: number }[];
  readonly syncs: (VerifyAnswer & { repair?: RepairResult })[];
}

describe('CLI: writeback verify as a process, against a local stack with HubSpot', () => {
  let stack: LocalStack;
  let dir: string;
  let stateFile: string;

  const cli = (...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
    new Promise((resolve) => {
      execFile(
        process.execPath,
        ['cli/main.ts', '-c', CONFIG, '--local-state', stateFile, ...args],
        { timeout: 60_000 },
        (err, stdout, stderr) => {
          resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
        },
      );
    });
  const verify = async (...args: string[]): Promise<{ code: number; json: VerifyJson }> => {
    const res = await cli('verify', ...args, '--json');
    try {
      return { code: res.code, json: JSON.parse(res.stdout) as VerifyJson };
    } catch {
      throw new Error(`not JSON (exit ${res.code}): ${res.stdout}\n${res.stderr}`);
    }
  };
  const keysOf = (json: VerifyJson, kind: FindingKind) =>
    json.syncs[0]!.findings.filter((f) => f.kind === kind).map((f) => f.key);
  /** Calls the HubSpot fake's API as a person in HubSpot's UI would change records. */
  const hubspot = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${stack.hubspot.url}/crm/v3/objects/contacts${path}`, {
      method,
      headers: { Authorization: `Bearer ${LOCAL_HUBSPOT_TOKEN}`, 'Content-Type': 'application/json' },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    expect(res.status, `${method} ${path}`).toBeLessThan(300);
  };
  const contactOf = (key: string) => stack.hubspot.findRecords('contacts', 'dwh_customer_id', key);

  beforeAll(async () => {
    const config = await loadConfigFile(CONFIG);
    stack = await LocalStack.start({ config, demo: { customers: CUSTOMERS } });
    stack.startWriters({ waitSeconds: 0 });
    await stack.runExtract('people');
    await stack.drain();
    dir = mkdtempSync(join(tmpdir(), 'writeback-verify-cli-'));
    stateFile = join(dir, 'local.json');
    writeLocalState(stateFile, localStateOf(stack, LOCAL_HUBSPOT_TOKEN));
  });
  afterAll(async () => {
    await stack?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('says how to load the target copy when the warehouse has none yet', async () => {
    // Act
    const res = await cli('verify');
    // Assess
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('WB_VERIFY_NO_COPY');
    expect(res.stderr).toContain('writeback verify --load-copies');
  });

  it('loads the copy from the HubSpot API and finds nothing after a clean sync (exit 0)', async () => {
    // Act
    const { code, json } = await verify('--load-copies');
    // Assess
    expect(code).toBe(0);
    expect(json.copies).toEqual([expect.objectContaining({ table: 'hubspot.contacts', records: CUSTOMERS })]);
    expect(json.clean).toBe(true);
    expect(json.syncs[0]).toMatchObject({ sync: 'people', sourceRows: CUSTOMERS, targetRecords: CUSTOMERS });
    expect(json.syncs[0]!.counts).toEqual({ missing: 0, drift: 0, orphan: 0, backlog: 0, dead: 0 });
  });

  it('finds each thing broken behind its back: deleted, edited, foreign record, lost link (exit 1)', async () => {
    // Prepare: a person deletes a contact and edits another in HubSpot, an import adds one with
    // our external id, and a link item is lost
    await hubspot('DELETE', `/${contactOf(DELETED)[0]!.id}`);
    await hubspot('PATCH', `/${contactOf(EDITED)[0]!.id}`, { properties: { phone: '+1 555 0100' } });
    await hubspot('POST', '', { properties: { dwh_customer_id: FOREIGN, email: 'foreign@example.com' } });
    await stack.aws.ddb.send(
      new DeleteItemCommand({
        TableName: stack.resources.linksTable,
        Key: { pk: { S: `people#${LINK_LOST}` } },
      }),
    );
    // Act
    const { code, json } = await verify('--load-copies');
    const text = await cli('verify');
    // Assess
    expect(code).toBe(1);
    expect(json.clean).toBe(false);
    expect(json.syncs[0]!.counts).toEqual({ missing: 2, drift: 1, orphan: 1, backlog: 0, dead: 0 });
    expect(keysOf(json, 'missing').sort()).toEqual([DELETED, LINK_LOST].sort());
    expect(json.syncs[0]!.findings.find((f) => f.key === DELETED)!.reason).toMatch(/linked, but the target/);
    expect(json.syncs[0]!.findings.find((f) => f.key === LINK_LOST)!.reason).toMatch(/no link/);
    expect(json.syncs[0]!.findings.filter((f) => f.kind === 'drift')).toEqual([
      expect.objectContaining({ key: EDITED, fields: ['phone'] }),
    ]);
    expect(keysOf(json, 'orphan')).toEqual([FOREIGN]);
    // People get one summary line and the keys, with what to do next.
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/^people +FINDINGS +60 +60 +2 +1 +1 +0 +0 +hubspot\.contacts/m);
    expect(text.stdout).toContain(`people missing 2: ${DELETED} (not in the target), ${LINK_LOST} (no link)`);
    expect(text.stdout).toContain(`people drift 1: ${EDITED} (phone)`);
    expect(text.stdout).toContain('writeback verify people --repair');
    // Every verification is kept in the state table.
    expect((await stack.state.listVerifies('people')).length).toBeGreaterThanOrEqual(3);
  });

  it('lists what a repair would re-send with --dry-run, and sends nothing', async () => {
    // Prepare
    const upserts = stack.hubspot.callCount({ path: /batch\/upsert/ });
    // Act
    const { code, json } = await verify('--repair', '--dry-run');
    const text = await cli('verify', '--repair', '--dry-run');
    // Assess
    expect(code).toBe(1);
    expect(json.syncs[0]!.repair).toMatchObject({ dryRun: true, requested: 3, enqueued: 0, wouldEnqueue: 3 });
    expect([...json.syncs[0]!.repair!.wouldEnqueueKeys!].sort()).toEqual([DELETED, EDITED, LINK_LOST].sort());
    expect(text.stdout).toContain(
      'people repair (dry run, nothing sent): would re-send 3 record(s) from the current source rows:',
    );
    expect(text.stdout).toContain(`${EDITED} (phone)`);
    expect(await stack.queueDepth('people')).toEqual({ visible: 0, inFlight: 0, dlq: 0 });
    expect(stack.hubspot.callCount({ path: /batch\/upsert/ })).toBe(upserts);
  });

  it('refuses a repair of more records than --max without a terminal to ask on (exit 2), and sends nothing', async () => {
    // Act
    const res = await cli('verify', '--repair', '--max', '2');
    const asJson = await cli('verify', '--repair', '--max', '2', '--json');
    const stray = await cli('verify', '--max', '2');
    // Assess: the findings are shown, the repair is not sent
    expect(res.code).toBe(2);
    expect(res.stdout).toMatch(/^people +FINDINGS/m);
    expect(res.stdout).toContain(
      'people repair: 3 record(s) to re-send, more than --max 2: nothing sent yet',
    );
    expect(res.stderr).toContain(
      'error WB_CONFIRMATION_REQUIRED: verify --repair would re-send 3 record(s) of people, more than --max 2',
    );
    expect(res.stderr).toContain('pass --yes to confirm (no terminal to ask on)');
    expect(asJson.code).toBe(2);
    expect((JSON.parse(asJson.stdout) as VerifyJson).syncs[0]!.repair).toMatchObject({
      heldOverMax: 2,
      requested: 3,
      enqueued: 0,
    });
    expect(stray.code).toBe(2);
    expect(stray.stderr).toContain('--max goes with --repair');
    expect(await stack.queueDepth('people')).toEqual({ visible: 0, inFlight: 0, dlq: 0 });
  });

  it('repairs the missing and drifted records through the write path; the orphan stays reported', async () => {
    // Act: repair (--yes: past any cap), let the writers drain the queue, reload the copy, verify again
    const repaired = await verify('--repair', '--max', '2', '--yes');
    await stack.drain();
    const after = await verify('--load-copies');
    // Assess: the repair sent exactly the three records, and deleted nothing
    expect(repaired.code).toBe(1); // it reports what it found before repairing
    expect(repaired.json.syncs[0]!.repair).toMatchObject({ requested: 3, enqueued: 3, sourceGone: [] });
    expect([...repaired.json.syncs[0]!.repair!.enqueuedKeys].sort()).toEqual(
      [DELETED, EDITED, LINK_LOST].sort(),
    );
    expect(after.json.syncs[0]!.counts).toEqual({ missing: 0, drift: 0, orphan: 1, backlog: 0, dead: 0 });
    expect(keysOf(after.json, 'orphan')).toEqual([FOREIGN]);
    expect(after.code).toBe(1); // an orphan is a finding: repair never deletes
    // The target: one live contact per key, the deleted one recreated under a new id the link now holds.
    for (const key of [DELETED, EDITED, LINK_LOST]) expect(contactOf(key)).toHaveLength(1);
    const recreated = contactOf(DELETED)[0]!;
    expect(stack.hubspot.records('contacts', { archived: true }).map((r) => r.id)).not.toContain(
      recreated.id,
    );
    expect((await stack.links.get('people', DELETED))?.targetId).toBe(recreated.id);
    expect((await stack.links.get('people', LINK_LOST))?.status).toBe('ok');
    expect(contactOf(EDITED)[0]!.properties.phone).not.toBe('+1 555 0100');
    expect(contactOf(FOREIGN)).toHaveLength(1);
  });

  it('records the repair in the audit trail: who, how many, under which run id (state table and warehouse)', async () => {
    // Act
    const res = await cli('audit', 'people', '--json');
    const rows = await stack.dwh<{ action: string; records: number; run_id: string; actor: string }[]>`
      select action, records, run_id, actor from writeback.operator_actions where sync = 'people'`;
    // Assess: one repair, the one that sent; dry runs and the refused one changed nothing
    const { actions } = JSON.parse(res.stdout) as { actions: OperatorAction[] };
    expect(actions).toHaveLength(1);
    expect(actions[0]).toMatchObject({
      sync: 'people',
      action: 'repair',
      outcome: 'ok',
      records: 3,
      actor: { kind: 'local', id: userInfo().username },
    });
    expect(actions[0]!.runId).toMatch(/^repair-/);
    expect([...actions[0]!.keys!].sort()).toEqual([DELETED, EDITED, LINK_LOST].sort());
    expect(rows).toEqual([
      { action: 'repair', records: 3, run_id: actions[0]!.runId, actor: userInfo().username },
    ]);
  });

  it('stops at an empty copy while the links say records exist: its own error, not everything missing', async () => {
    // Prepare: the copy's table is there, but empty (a failed or pending load)
    await stack.dwh`truncate hubspot.contacts`;
    const depth = await stack.queueDepth('people');
    // Act
    const res = await cli('verify');
    const repair = await cli('verify', '--repair', '--yes');
    // Assess
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(
      'error WB_VERIFY_EMPTY_COPY: sync people: hubspot.contacts holds no records, while',
    );
    expect(res.stderr).toContain('nothing compared, nothing repaired');
    expect(res.stdout).not.toMatch(/missing/);
    expect(repair.code).toBe(1);
    expect(repair.stderr).toContain('WB_VERIFY_EMPTY_COPY');
    expect(await stack.queueDepth('people')).toEqual(depth);
  });

  it('verifies a sync without a warehouse copy against the target API', async () => {
    // Act: the operator tests' config names the same sync without `verify`: HubSpot is listed
    const res = await cli('-c', 'test/cli/fixtures/operator.config.ts', 'verify', 'people', '--json');
    // Assess
    const json = JSON.parse(res.stdout) as VerifyJson;
    expect(json.syncs[0]!.against).toBe('hubspot API (contacts)');
    expect(json.syncs[0]!.counts).toEqual({ missing: 0, drift: 0, orphan: 1, backlog: 0, dead: 0 });
  });
});
