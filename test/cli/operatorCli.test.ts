import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_HUBSPOT_TOKEN, LocalStack } from '../../local/LocalStack.ts';
import { localStateOf } from '../../local/LocalStateFile.ts';
import { loadConfigFile } from '../../shared/config/loadConfig.ts';
import { writeLocalState } from '../../shared/contracts/localStateFile.ts';
import type { OperatorAction } from '../../shared/state/OperatorAction.ts';

const CONFIG = 'test/cli/fixtures/operator.config.ts';
const CUSTOMERS = 120;
/** Rows the target refuses (HubSpot: invalid email, 400 VALIDATION_ERROR). */
const BAD_EMAIL = ['3', '7', '11'];
/** Rows map() refuses (unknown lifecycle stage: WB_MAP_FAILED). */
const BAD_STAGE = ['5', '9'];

interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

describe('CLI: the operator commands as a process, against a local stack', () => {
  let stack: LocalStack;
  let dir: string;
  let stateFile: string;

  /** Runs `node cli/main.ts …` against the test's stack, as an operator would. */
  const cli = (...args: string[]): Promise<CliResult> =>
    new Promise((resolve) => {
      execFile(
        process.execPath,
        ['cli/main.ts', '-c', CONFIG, '--local-state', stateFile, ...args],
        { timeout: 60_000 },
        (err, stdout, stderr) => {
          const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
          resolve({ code, stdout, stderr });
        },
      );
    });
  const cliJson = async <T>(...args: string[]): Promise<{ code: number; json: T; stderr: string }> => {
    const res = await cli(...args, '--json');
    let json: T;
    try {
      json = JSON.parse(res.stdout) as T;
    } catch {
      throw new Error(`not JSON (exit ${res.code}): ${res.stdout}\n${res.stderr}`);
    }
    return { code: res.code, json, stderr: res.stderr };
  };

  beforeAll(async () => {
    const config = await loadConfigFile(CONFIG);
    stack = await LocalStack.start({ config, demo: { customers: CUSTOMERS } });
    // Inject bad records before the first run.
    await stack.dwh`update crm.customers set email = 'not-an-email' where customer_id in ${stack.dwh(BAD_EMAIL.map(Number))}`;
    await stack.dwh`update crm.customers set lifecycle_stage = 'zombie' where customer_id in ${stack.dwh(BAD_STAGE.map(Number))}`;
    stack.startWriters({ waitSeconds: 0 });
    dir = mkdtempSync(join(tmpdir(), 'writeback-cli-'));
    stateFile = join(dir, 'local.json');
    writeLocalState(stateFile, localStateOf(stack, LOCAL_HUBSPOT_TOKEN));
  });
  afterAll(async () => {
    await stack?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('exits 3 and says how to start a stack when none is running', async () => {
    // Act
    const res = await cli('--local-state', join(dir, 'missing.json'), 'status');
    // Assess
    expect(res.code).toBe(3);
    expect(res.stderr).toContain('npm start');
  });

  it('exits 3 for a config file that cannot be loaded', async () => {
    // Act
    const res = await cli('-c', join(dir, 'missing.config.ts'), 'status');
    // Assess
    expect(res.code).toBe(3);
    expect(res.stderr).toContain('WB_CONFIG_INVALID');
  });

  it('exits 2 and names the known syncs for an unknown sync', async () => {
    // Act
    const res = await cli('status', 'nope');
    // Assess
    expect(res.code).toBe(2);
    expect(res.stderr).toContain("unknown sync 'nope': the config defines people");
  });

  it('runs a sync with bad records and ends it as partial with honest counts (exit 1)', async () => {
    // Act
    const { code, json } = await cliJson<{
      run: { outcome: string; counts: Record<string, number> };
      result: string;
      writes: Record<string, number>;
      drained: boolean;
    }>('run', 'people', '--wait');
    // Assess
    expect(code).toBe(1);
    expect(json.run.outcome).toBe('succeeded');
    // Nothing had failed before this first run: nothing re-driven, no failed or dead links yet.
    expect(json.run.counts).toEqual({
      read: CUSTOMERS,
      unchanged: 0,
      enqueued: CUSTOMERS,
      invalid: 2,
      redriven: 0,
      failed: 0,
      dead: 0,
    });
    expect(json.drained).toBe(true);
    expect(json.writes).toEqual({ created: CUSTOMERS - 5, updated: 0, retrying: 0, failed: 5 });
    expect(json.result).toBe('partial');
  });

  it('lists every dead letter with its source key and reason', async () => {
    // Act
    const { code, json } = await cliJson<{
      count: number;
      entries: {
        key: string;
        reason: { code: string; message: string; httpStatus?: number };
        attempts: number;
      }[];
    }>('dlq', 'list', 'people');
    const table = await cli('dlq', 'list', 'people');
    const mapFailures = await cliJson<{ count: number }>('dlq', 'list', 'people', '--code', 'WB_MAP_FAILED');
    // Assess
    expect(code).toBe(0);
    expect(json.count).toBe(5);
    const byKey = new Map(json.entries.map((e) => [e.key, e]));
    expect([...byKey.keys()].sort()).toEqual([...BAD_EMAIL, ...BAD_STAGE].sort());
    for (const key of BAD_EMAIL) {
      const e = byKey.get(key)!;
      expect(e.reason.code).toBe('HUBSPOT_VALIDATION_ERROR');
      expect(e.reason.httpStatus).toBe(400);
      expect(e.reason.message).toContain('not-an-email');
      expect(e.attempts).toBe(1);
    }
    for (const key of BAD_STAGE) {
      expect(byKey.get(key)!.reason).toEqual({
        code: 'WB_MAP_FAILED',
        message: "Error: unknown lifecycle stage 'zombie'",
      });
    }
    for (const key of [...BAD_EMAIL, ...BAD_STAGE])
      expect(table.stdout).toMatch(new RegExp(`^${key} +[A-Z_]+`, 'm'));
    expect(mapFailures.json.count).toBe(2);
  });

  it('shows one dead letter: payload, link and error history', async () => {
    // Act
    const { json } = await cliJson<{
      payload: Record<string, unknown>;
      link: { status: string; targetId?: string; lastError: { code: string } };
      history: { reason: { code: string; httpStatus: number } }[];
    }>('dlq', 'show', 'people', '3');
    // Assess
    expect(json.payload).toMatchObject({ email: 'not-an-email', firstname: expect.any(String) });
    expect(json.link).toMatchObject({ status: 'failed', lastError: { code: 'HUBSPOT_VALIDATION_ERROR' } });
    expect(json.link.targetId).toBeUndefined();
    expect(json.history).toHaveLength(1);
    expect(json.history[0]!.reason).toMatchObject({ code: 'HUBSPOT_VALIDATION_ERROR', httpStatus: 400 });
  });

  it('shows status: last run partial, queue empty, DLQ depth and links by status', async () => {
    // Act
    const { json } = await cliJson<{
      syncs: {
        sync: string;
        enabled: boolean;
        lastRun: { result: string };
        queue: { visible: number; inFlight: number; dlq: number };
        links: Record<string, number>;
        lag: { rowsBehind: number };
      }[];
    }>('status');
    // Assess
    const [people] = json.syncs;
    expect(people).toMatchObject({
      sync: 'people',
      enabled: true,
      lastRun: { result: 'partial' },
      queue: { visible: 0, inFlight: 0, dlq: 5 },
      links: { ok: CUSTOMERS - 5, pending: 0, retrying: 0, failed: 5, dead: 0 },
      lag: { rowsBehind: 0 },
    });
  });

  it('finds where a row went, and the row a target record came from', async () => {
    // Act
    const forward = await cliJson<{ links: { key: string; status: string; targetId: string }[] }>(
      'links',
      'people',
      '1',
    );
    const targetId = forward.json.links[0]!.targetId;
    const reverse = await cliJson<{ links: { key: string }[] }>('links', 'people', '--target', targetId);
    const missing = await cli('links', 'people', '--target', 'no-such-id');
    // Assess
    expect(forward.json.links[0]).toMatchObject({ key: '1', status: 'ok' });
    expect(stack.hubspot.findRecords('contacts', 'dwh_customer_id', '1')[0]!.id).toBe(targetId);
    expect(reverse.json.links.map((l) => l.key)).toEqual(['1']);
    expect(missing.code).toBe(1);
  });

  it('replays stored payloads: an unfixed record fails again with its reason, an invalid one stays (exit 1)', async () => {
    // Act
    const replay = await cliJson<{
      redriven: string[];
      stillInvalid: { key: string }[];
      waited: { drained: boolean; notOk: string[] };
    }>('replay', 'people', '--key', '3,5', '--wait');
    const show = await cliJson<{ history: { reason: { code: string } }[] }>('dlq', 'show', 'people', '3');
    // Assess
    expect(replay.code).toBe(1);
    expect(replay.json.redriven).toEqual(['3']);
    expect(replay.json.stillInvalid.map((s) => s.key)).toEqual(['5']);
    expect(replay.json.waited).toMatchObject({ drained: true, notOk: ['3'] });
    expect(show.json.history.map((h) => h.reason.code)).toEqual(['HUBSPOT_VALIDATION_ERROR']);
    expect((await stack.queueDepth('people')).dlq).toBe(5);
  });

  it('plans the fix as a dry run: creates and an update with its field diff, nothing written', async () => {
    // Prepare: fix the source, and edit one good row
    await stack.dwh`update crm.customers set email = 'customer' || customer_id || '@example.com', updated_at = now()
      where customer_id in ${stack.dwh(BAD_EMAIL.map(Number))}`;
    await stack.dwh`update crm.customers set lifecycle_stage = 'lead', updated_at = now()
      where customer_id in ${stack.dwh(BAD_STAGE.map(Number))}`;
    const [before] = await stack.dwh<
      { phone: string }[]
    >`select phone from crm.customers where customer_id = 1`;
    await stack.dwh`update crm.customers set phone = '+44 20 0000 0001', updated_at = now() where customer_id = 1`;
    const upsertsBefore = stack.hubspot.callCount({ path: /batch\/upsert/ });
    // Act
    const { code, json } = await cliJson<{
      counts: Record<string, number>;
      records: { key: string; action: string; diff?: { field: string; from?: unknown; to: unknown }[] }[];
    }>('plan', 'people');
    const dryRun = await cli('run', 'people', '--dry-run');
    // Assess
    expect(code).toBe(0);
    expect(json.counts).toMatchObject({ create: 5, update: 1, invalid: 0, delete: 0 });
    const update = json.records.find((r) => r.key === '1')!;
    expect(update.action).toBe('update');
    expect(update.diff).toEqual([{ field: 'phone', from: before!.phone, to: '+44 20 0000 0001' }]);
    const created = json.records.find((r) => r.key === '3')!;
    expect(created.action).toBe('create');
    expect(created.diff).toContainEqual({ field: 'email', to: 'customer3@example.com' });
    expect(dryRun.stdout).toContain(`phone: "${before!.phone}" → "+44 20 0000 0001"`);
    expect(stack.hubspot.callCount({ path: /batch\/upsert/ })).toBe(upsertsBefore);
    expect(await stack.queueDepth('people')).toEqual({ visible: 0, inFlight: 0, dlq: 5 });
  });

  it('redrives the DLQ after the fix: the DLQ is empty and the target complete', async () => {
    // Act
    const redrive = await cliJson<{
      redriven: string[];
      messagesRemoved: number;
      waited: { drained: boolean; notOk: string[] };
    }>('dlq', 'redrive', 'people', '--all', '--wait');
    const after = await cliJson<{ count: number }>('dlq', 'list', 'people');
    const status = await cliJson<{ syncs: { queue: { dlq: number }; links: Record<string, number> }[] }>(
      'status',
    );
    const runs = await cliJson<{ runs: { result: string; writes: Record<string, number> }[] }>(
      'runs',
      'people',
    );
    // Assess
    expect(redrive.code).toBe(0);
    expect(redrive.json.redriven.sort()).toEqual([...BAD_EMAIL, ...BAD_STAGE].sort());
    expect(redrive.json.messagesRemoved).toBe(5);
    expect(redrive.json.waited).toMatchObject({ drained: true, notOk: [] });
    expect(after.json.count).toBe(0);
    expect(status.json.syncs[0]).toMatchObject({
      queue: { dlq: 0 },
      links: { ok: CUSTOMERS, failed: 0, dead: 0, retrying: 0, pending: 0 },
    });
    const contacts = stack.hubspot.records('contacts');
    expect(contacts).toHaveLength(CUSTOMERS);
    const byId = new Map(contacts.map((c) => [c.properties.dwh_customer_id, c.properties]));
    for (const key of BAD_EMAIL) expect(byId.get(key)!.email).toBe(`customer${key}@example.com`);
    for (const key of BAD_STAGE) expect(byId.get(key)!.lifecyclestage).toBe('lead');
    // The run's redriven records count for it: it now shows as succeeded.
    expect(runs.json.runs[0]).toMatchObject({
      result: 'succeeded',
      writes: { created: CUSTOMERS, failed: 0 },
    });
  });

  it('refuses a purge without --yes when there is no terminal to ask on (exit 2)', async () => {
    // Act
    const res = await cli('dlq', 'purge', 'people');
    // Assess
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('pass --yes');
  });

  it('skips runs of a disabled sync (exit 1) until it is enabled again', async () => {
    // Act
    const disable = await cli('disable', 'people');
    const skipped = await cliJson<{ run: { outcome: string; message: string } }>('run', 'people');
    await cli('enable', 'people');
    const ran = await cliJson<{ run: { outcome: string; counts: { enqueued: number } } }>(
      'run',
      'people',
      '--wait',
    );
    // Assess
    expect(disable.code).toBe(0);
    expect(skipped.code).toBe(1);
    expect(skipped.json.run).toMatchObject({ outcome: 'skipped', message: 'sync is disabled' });
    expect(ran.code).toBe(0);
    // Only the edited row 1 changed since the redrive wrote the fixed ones.
    expect(ran.json.run).toMatchObject({ outcome: 'succeeded', counts: { enqueued: 1 } });
  });

  it('moves the bookmark back to a cursor value, after confirmation', async () => {
    // Act
    const unconfirmed = await cli('reset', 'people', '--to', '2026-01-01 00:01:00+00');
    const { code, json } = await cliJson<{ after: { cursor: string; key: string[] } }>(
      'reset',
      'people',
      '--to',
      '2026-01-01 00:01:00+00',
      '--yes',
    );
    // Assess
    expect(unconfirmed.code).toBe(2);
    expect(code).toBe(0);
    // The last row before the value: the next run reads every row from 00:01:00 on (customer 60 is at 00:01:00).
    expect(json.after).toEqual({ cursor: '2026-01-01 00:00:59+00', key: ['59'] });
  });

  it('keeps an audit trail of every action that changed state: who, when, what, how many (state table and warehouse)', async () => {
    // Prepare: a purge (confirmed) and a reset that fails after it began
    const purge = await cli('dlq', 'purge', 'people', '--yes');
    const badReset = await cli('reset', 'people', '--to', 'not-a-time', '--yes');
    // Act
    const { code, json } = await cliJson<{ actions: OperatorAction[] }>('audit', 'people');
    const text = await cli('audit');
    const runs = await cliJson<{ actions: OperatorAction[] }>('runs', 'people');
    const runsText = await cli('runs', 'people');
    const rows = await stack.dwh<
      { action: string; actor: string; actor_kind: string; records: number | null; outcome: string }[]
    >`select action, actor, actor_kind, records, outcome from writeback.operator_actions where sync = 'people' order by at`;
    // Assess: newest first, every action of this file that changed something, none that did not
    expect(purge.code).toBe(0);
    expect(badReset.code).toBe(2);
    expect(code).toBe(0);
    const me = userInfo().username;
    const actions = [...json.actions].reverse();
    expect(actions.map((a) => [a.action, a.outcome, a.records])).toEqual([
      ['run', 'ok', CUSTOMERS],
      ['replay', 'ok', 1],
      ['dlq-redrive', 'ok', 5],
      ['disable', 'ok', undefined],
      ['run', 'ok', 0],
      ['enable', 'ok', undefined],
      ['run', 'ok', 1],
      ['reset', 'ok', undefined],
      ['dlq-purge', 'ok', 0],
      ['reset', 'failed', undefined],
    ]);
    for (const a of actions) {
      expect(a.sync).toBe('people');
      expect(a.actor).toMatchObject({ kind: 'local', id: me, osUser: me, host: hostname() });
      expect(a.where).toMatch(/^local stack \(pid \d+\)$/);
      expect(Date.parse(a.finishedAt!)).toBeGreaterThanOrEqual(Date.parse(a.at));
    }
    const redrive = actions.find((a) => a.action === 'dlq-redrive')!;
    expect([...redrive.keys!].sort()).toEqual([...BAD_EMAIL, ...BAD_STAGE].sort());
    expect(redrive.detail).toContain('--all, from the current source rows: 5 DLQ message(s) removed');
    expect(actions.find((a) => a.action === 'replay')!.keys).toEqual(['3']);
    expect(actions.filter((a) => a.action === 'reset')[0]!.detail).toMatch(
      /^--to 2026-01-01 00:01:00\+00: bookmark .+ #\d+ → 2026-01-01 00:00:59\+00 #59$/,
    );
    expect(actions.at(-1)!.message).toContain('not-a-time');
    const firstRun = actions[0]!;
    expect(firstRun.runId).toMatch(/^[0-9a-f-]{36}$/);
    // `audit` without a sync lists every sync's; `runs` shows the newest under the runs.
    expect(text.stdout).toMatch(
      new RegExp(
        `^\\S+ \\S+ +people +dlq-purge +${me}@\\S+ \\(local\\) +0 +ok +--all: 0 DLQ message\\(s\\) deleted`,
        'm',
      ),
    );
    expect(runs.json.actions.map((a) => a.action)).toEqual(['reset', 'dlq-purge', 'reset', 'run', 'enable']);
    expect(runsText.stdout).toContain(
      'operator actions on people, newest first (writeback audit people lists them all):',
    );
    // The warehouse's writeback schema has the same trail (the local warehouse is at hand).
    expect(rows.map((r) => [r.action, r.outcome, r.records])).toEqual(
      actions.map((a) => [a.action, a.outcome, a.records ?? null]),
    );
    expect(new Set(rows.map((r) => `${r.actor_kind} ${r.actor}`))).toEqual(new Set([`local ${me}`]));
  });
});
