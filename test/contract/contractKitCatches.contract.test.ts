import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startContractRun } from '../../local/startContractRun.ts';
import type { Connector, UpsertResult } from '../../shared/connectors/Connector.ts';
import {
  type ContractRun,
  type PropertyResult,
  runContract,
} from '../../shared/connectors/kit/runContract.ts';
import { TargetError } from '../../shared/errors.ts';
import { acmeTickets } from '../fixtures/userConnector/acmeTickets.ts';

/** The connector with its results passed through `change`. */
function misbehaving(inner: Connector, change: (results: UpsertResult[]) => UpsertResult[]): Connector {
  return {
    type: inner.type,
    capabilities: inner.capabilities,
    upsertBatch: async (object, records) => change(await inner.upsertBatch(object, records)),
    lookup: (object, id) => inner.lookup(object, id),
    list: (object) => inner.list(object),
    close: () => inner.close(),
  };
}

async function verdicts(run: ContractRun, connector: Connector): Promise<Map<string, PropertyResult>> {
  const out = new Map<string, PropertyResult>();
  for await (const r of runContract({ ...run, connector })) out.set(r.name, r);
  return out;
}

describe('Contract kit: catches a connector that breaks the contract', () => {
  let run: Awaited<ReturnType<typeof startContractRun>>;
  beforeAll(async () => {
    run = await startContractRun(acmeTickets);
  });
  afterAll(async () => {
    await run.close();
  });

  it('fails "one result per record" when the refused record’s result is left out', async () => {
    // Prepare
    const dropsFailures = misbehaving(run.connector, (rs) => rs.filter((r) => r.ok));

    // Act
    const v = await verdicts(run, dropsFailures);

    // Assess
    const partial = [...v.values()].find((r) => r.name.startsWith('gives one result per record'));
    expect(partial).toMatchObject({ status: 'fail', detail: '2 results for 3 records' });
    expect(v.get('replays an upsert without making a second record')?.status).toBe('pass');
  });

  it('fails the 429 and 5xx properties when every error is called permanent', async () => {
    const allPermanent = misbehaving(run.connector, (rs) =>
      rs.map((r) =>
        r.ok
          ? r
          : { ...r, error: new TargetError(r.error.code, r.error.message, { disposition: 'permanent' }) },
      ),
    );

    const v = await verdicts(run, allPermanent);

    const failedNames = [...v.values()].filter((r) => r.status === 'fail').map((r) => r.name);
    expect(failedNames).toEqual([
      expect.stringMatching(/^hands a rate-limit answer \(429\) back as retryable/),
      expect.stringMatching(/^retries a server error \(5xx\)/),
    ]);
  });
});
