import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startContractRun } from '../../local/startContractRun.ts';
import { CONTRACT_PROPERTIES } from '../../shared/connectors/kit/contractProperties.ts';
import { type PropertyResult, runContract } from '../../shared/connectors/kit/runContract.ts';
import { BUILTIN_CONNECTORS } from '../../shared/connectors/registry.ts';
import { acmeTickets } from '../fixtures/userConnector/acmeTickets.ts';

/**
 * `writeback test-connector` for every built-in connector and the sample user connector
 * (test/fixtures/userConnector), against its fake: each property of
 * the contract kit is one test, so CI names the property a connector breaks.
 */
for (const definition of [...BUILTIN_CONNECTORS, acmeTickets]) {
  describe(`Contract kit: ${definition.title}`, () => {
    const results = new Map<string, PropertyResult>();

    beforeAll(async () => {
      const run = await startContractRun(definition);
      try {
        for await (const r of runContract(run)) results.set(r.name, r);
      } finally {
        await run.close();
      }
    }, 120_000);

    afterAll(() => results.clear());

    it.each(CONTRACT_PROPERTIES.map((p) => [p.name, p] as const))('%s', (name, property) => {
      const r = results.get(name);
      expect(r, 'the property did not run').toBeDefined();
      // A database has no 429 or 5xx to inject: its fake offers no faults, and those are skipped.
      if (property.needs === 'faults' && r!.status === 'skip') return;
      expect(r!.detail ?? '').toBe('');
      expect(r!.status).toBe('pass');
    });
  });
}
