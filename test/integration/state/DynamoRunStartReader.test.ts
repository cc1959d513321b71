import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoRunStartReader } from '../../../shared/state/DynamoRunStartReader.ts';
import { DynamoStateStore } from '../../../shared/state/DynamoStateStore.ts';
import { countingClient } from '../../helpers/countingClient.ts';
import { type EmulatorFixture, startEmulatorFixture } from '../../helpers/emulatorFixture.ts';

const NOW = Date.parse('2026-12-05T10:00:00Z');
const position = { cursor: '2026-12-05 09:00:00+00', key: ['7'] };

/** The extract's first read: the state and the quiet run's gate, from both tables in one request. */
describe(`Class: DynamoRunStartReader (against ${process.env.WB_DYNAMODB === 'local' ? 'DynamoDB Local' : 'dynalite'})`, () => {
  let fx: EmulatorFixture;
  let state: DynamoStateStore;
  let counting: ReturnType<typeof countingClient>;
  let reader: DynamoRunStartReader;

  beforeAll(async () => {
    fx = await startEmulatorFixture();
    state = new DynamoStateStore(fx.aws.ddb, fx.resources.stateTable);
    counting = countingClient(fx.emulators.dynamodbEndpoint);
    reader = new DynamoRunStartReader(counting.client, {
      state: fx.resources.stateTable,
      links: fx.resources.linksTable,
    });
  });
  afterAll(async () => {
    counting?.client.destroy();
    await fx?.stop();
  });

  it('reads what the two stores read, in one request: a bookmark, a pass, a redrive flag and an open auth outage', async () => {
    // Prepare
    await state.acquireLease('busy', 'run-1', NOW, 60_000);
    await state.saveProgress(
      'busy',
      'run-1',
      { bookmark: position, pass: { at: 'x', position } },
      NOW,
      60_000,
    );
    await fx.links.health.flagRedrive('busy', NOW + 1000, NOW);
    await fx.links.health.recordAuthRefusal('busy', NOW, {
      code: 'HUBSPOT_UNAUTHORIZED',
      message: 'token revoked',
      httpStatus: 401,
      connection: 'hubspot',
      secret: 'writeback/hubspot',
    });
    counting.calls.length = 0;
    // Act
    const read = await reader.read('busy');
    // Assess
    expect(counting.calls).toEqual(['BatchGetItem']);
    expect(read.state).toEqual(await state.get('busy'));
    expect(read.gate).toEqual(await fx.links.health.readGate('busy'));
    expect(read.gate).toMatchObject({
      redriveDueAt: NOW + 1000,
      auth: { code: 'HUBSPOT_UNAUTHORIZED', since: NOW },
    });
    expect(read.state).toMatchObject({ bookmark: position, leaseOwner: 'run-1', firstPass: false });
  });

  it('reads a sync that never ran as the stores do: an empty state, and a redrive due once (no flag was ever settled)', async () => {
    const read = await reader.read('never-ran');
    expect(read.state).toEqual(await state.get('never-ran'));
    expect(read.gate).toEqual({ redriveDueAt: 0 });
  });
});
