import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { createExtractHandler } from '../../../functions/extract.ts';
import { createVerifyHandler } from '../../../functions/verify.ts';
import type { SyncConfig } from '../../../shared/config/schema.ts';
import { validateConfig } from '../../../shared/config/validateConfig.ts';
import { WritebackError } from '../../../shared/errors.ts';

// Prepare (shared): two syncs; a run is never reached here, its dependencies say which sync it was for.
const config = validateConfig({
  warehouse: { secret: 'writeback/dwh' },
  connections: { hubspot: { type: 'hubspot', secret: 'writeback/hubspot' } },
  syncs: ['contacts', 'deals'].map((name) => ({
    name,
    schedule: 'rate(5 minutes)',
    source: { table: `crm.${name}`, key: 'id', cursor: 'updated_at' },
    target: { connection: 'hubspot', object: name, externalId: 'dwh_id' },
    map: (row: Record<string, unknown>) => ({ email: row.email }),
  })),
});
const context = { getRemainingTimeInMillis: () => 600_000 } as Context;

/** The extract handler of a function deployed for `own` (undefined: the local runtime, every sync). */
function handlerFor(own: string | undefined) {
  return createExtractHandler(async () => ({
    config,
    logger: new Logger({ logLevel: 'SILENT' }),
    ...(own ? { defaultSync: own } : {}),
    depsFor: (sync: SyncConfig) => {
      throw new Error(`ran ${sync.name}`);
    },
  }));
}

async function failure(run: Promise<unknown>): Promise<Error> {
  try {
    await run;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the invocation to fail');
}

describe('Handler: extract, the sync it serves', () => {
  it("refuses an event naming another sync with WB_WRONG_SYNC, before the run's dependencies are built", async () => {
    // Act
    const err = await failure(handlerFor('contacts')({ sync: 'deals' }, context));
    // Assess
    expect(err).toBeInstanceOf(WritebackError);
    expect((err as WritebackError).code).toBe('WB_WRONG_SYNC');
    expect(err.message).toBe(
      "event.sync: this extract function runs sync 'contacts' only (its WB_SYNC), not 'deals'; invoke that sync's own extract function",
    );
  });

  it('refuses a name that is no sync at all the same way', async () => {
    // Act
    const err = await failure(handlerFor('contacts')({ sync: 'contactz' }, context));
    // Assess
    expect((err as WritebackError).code).toBe('WB_WRONG_SYNC');
  });

  it('runs its own sync when the event names it, or names none (a parent starting its child sends {})', async () => {
    // Act and assess
    expect((await failure(handlerFor('contacts')({ sync: 'contacts' }, context))).message).toBe(
      'ran contacts',
    );
    expect((await failure(handlerFor('contacts')({}, context))).message).toBe('ran contacts');
  });

  it('lets the event choose where the function serves every sync (the local runtime)', async () => {
    // Act and assess
    expect((await failure(handlerFor(undefined)({ sync: 'deals' }, context))).message).toBe('ran deals');
  });
});

describe('Handler: verify, the sync it serves', () => {
  it('refuses an event naming another sync with WB_WRONG_SYNC before it reads anything', async () => {
    // Prepare: a verify function deployed for contacts; reading the dependencies would throw.
    const handler = createVerifyHandler(async () => ({
      config,
      logger: new Logger({ logLevel: 'SILENT' }),
      defaultSync: 'contacts',
      depsFor: (sync: SyncConfig) => {
        throw new Error(`verified ${sync.name}`);
      },
    }));
    // Act
    const other = await failure(handler({ sync: 'deals' }, context));
    const own = await failure(handler({}, context));
    // Assess
    expect((other as WritebackError).code).toBe('WB_WRONG_SYNC');
    expect(other.message).toMatch(/this verify function runs sync 'contacts' only/);
    expect(own.message).toBe('verified contacts');
  });
});
