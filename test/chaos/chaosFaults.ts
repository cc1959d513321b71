import type { LocalStack } from '../../local/LocalStack.ts';
import type { Connector } from '../../shared/connectors/Connector.ts';
import type { HubSpotConnector } from '../../shared/connectors/hubspot/HubSpotConnector.ts';
import { TargetError } from '../../shared/errors.ts';
import type { WriteFaults, WriteStep } from '../../shared/write/processWriteBatch.ts';
import type { CallFault } from '../helpers/MemoryTarget.ts';
import type { Prng } from './Prng.ts';

/** The protocol steps the writer crashes at. */
export const STEPS: readonly WriteStep[] = ['received', 'claimed', 'written', 'committed'];
/** Crashes per protocol step and sync: enough to hit each step, few enough to keep the run short. */
const CRASHES_PER_STEP = 2;

/**
 * Crashes the writer at each protocol step a few times per sync, at passes through that step
 * drawn from the seed (so every step is hit, even in a small scenario), while the storm lasts.
 */
export function crashFaults(
  sync: string,
  rng: Prng,
  isCalm: () => boolean,
  count: (name: string) => void,
): WriteFaults {
  const passes = new Map(STEPS.map((s) => [s, 0]));
  const crashAt = new Map(
    STEPS.map((s) => [s, new Set(Array.from({ length: CRASHES_PER_STEP }, () => rng.int(5, 80)))]),
  );
  return {
    at: (step) => {
      const n = passes.get(step)! + 1;
      passes.set(step, n);
      if (isCalm() || !crashAt.get(step)!.has(n)) return;
      count(`crash:${step}`);
      throw new Error(`chaos: ${sync} writer crashed at step ${step}`);
    },
  };
}

/** Faults of the in-memory targets, decided per call. */
export function memoryFault(
  call: 'upsert' | 'lookup',
  rng: Prng,
  calm: boolean,
  storm: 429 | 503 | undefined,
  count: (name: string) => void,
): CallFault | undefined {
  if (calm) return undefined;
  if (storm !== undefined) {
    count(`stormRefused:${storm}`);
    return {
      kind: 'refuse',
      error: new TargetError(
        storm === 429 ? 'MEMORY_RATE_LIMITED' : 'MEMORY_SERVER_ERROR',
        `storm ${storm}`,
        {
          disposition: 'retryable',
          httpStatus: storm,
          ...(storm === 429 ? { retryAfterSeconds: 1 } : {}),
        },
      ),
    };
  }
  const r = rng.next();
  if (call === 'lookup') {
    if (r >= 0.08) return undefined;
    count('lookupFailed');
    return {
      kind: 'refuse',
      error: new TargetError('MEMORY_SERVER_ERROR', '503 on lookup', {
        disposition: 'retryable',
        httpStatus: 503,
      }),
    };
  }
  if (r < 0.1) {
    count('429');
    return {
      kind: 'refuse',
      error: new TargetError('MEMORY_RATE_LIMITED', '429', {
        disposition: 'retryable',
        httpStatus: 429,
        retryAfterSeconds: 1,
      }),
    };
  }
  if (r < 0.15) {
    count('5xx');
    return {
      kind: 'refuse',
      error: new TargetError('MEMORY_SERVER_ERROR', '503', { disposition: 'retryable', httpStatus: 503 }),
    };
  }
  if (r < 0.19) {
    count('timeoutBeforeWrite');
    return {
      kind: 'refuse',
      error: new TargetError('MEMORY_TIMEOUT', 'no answer', { disposition: 'retryable' }),
    };
  }
  if (r < 0.25) {
    count('answerLostAfterWrite');
    return {
      kind: 'lose-answer',
      error: new TargetError('MEMORY_TIMEOUT', 'no answer', { disposition: 'retryable' }),
    };
  }
  return undefined;
}

/** The HubSpot connector, with faults injected into the fake just before each batch upsert. */
export function faultyHubSpot(
  inner: HubSpotConnector,
  timeoutMs: number,
  stack: () => LocalStack,
  rng: Prng,
  isCalm: () => boolean,
  stormStatus: () => 429 | 503 | undefined,
  count: (name: string) => void,
): Connector {
  const match = { method: 'POST', path: '/crm/v3/objects/contacts/batch/upsert' };
  return {
    type: inner.type,
    capabilities: inner.capabilities,
    upsertBatch: async (object, records) => {
      const fake = stack().hubspot;
      const r = rng.next();
      const storm = stormStatus();
      if (storm !== undefined) {
        // Enough refusals to outlast the connector's own retries of blips (two): the storm reaches the writer.
        fake.failNext(3, storm, { match, ...(storm === 429 ? { retryAfterSeconds: 1 } : {}) });
        count(`stormRefused:${storm}`);
      } else if (!isCalm()) {
        if (r < 0.1) {
          fake.failNext(1, 429, { match, retryAfterSeconds: 1 });
          count('429');
        } else if (r < 0.15) {
          fake.failNext(1, rng.chance(0.5) ? 500 : 503, { match });
          count('5xx');
        } else if (r < 0.19) {
          fake.dropNext(1, { match, applyFirst: true });
          count('answerLostAfterWrite');
        } else if (r < 0.22) {
          fake.delayNext(1, timeoutMs + 400, { match, applyFirst: true });
          count('timeoutAfterWrite');
        } else if (r < 0.25) {
          fake.dropNext(1, { match });
          count('connectionReset');
        }
      }
      return inner.upsertBatch(object, records);
    },
    lookup: (object, id) => inner.lookup(object, id),
    list: (object) => inner.list(object),
    close: () => inner.close(),
  };
}
