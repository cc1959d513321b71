import { randomUUID } from 'node:crypto';
import { describeError } from '../../errors.ts';
import type { Connector } from '../Connector.ts';
import type { ContractSample } from '../ConnectorDefinition.ts';
import type { ContractTarget } from './ContractTarget.ts';
import { CONTRACT_PROPERTIES, type ContractProperty } from './contractProperties.ts';

/** The verdict on one property. */
export interface PropertyResult {
  readonly name: string;
  readonly status: 'pass' | 'fail' | 'skip';
  /** Why it failed, or why it was skipped. */
  readonly detail?: string;
  readonly ms: number;
}

export interface ContractRun {
  readonly connector: Connector;
  readonly sample: ContractSample;
  readonly target: ContractTarget;
  /** @default CONTRACT_PROPERTIES */
  readonly properties?: readonly ContractProperty[];
}

/**
 * Runs the contract properties one after another against a connector, yielding each verdict as
 * it is known (the CLI prints them as they come). External ids carry a per-run tag, so a run
 * against a sandbox never meets an earlier run's records.
 */
export async function* runContract(run: ContractRun): AsyncGenerator<PropertyResult> {
  const tag = randomUUID().slice(0, 8);
  let seq = 0;
  const next = () => {
    seq++;
    return { key: `${tag}-${seq}`, i: seq };
  };
  for (const property of run.properties ?? CONTRACT_PROPERTIES) {
    const t0 = Date.now();
    if (property.needs === 'faults' && !run.target.faults) {
      yield {
        name: property.name,
        status: 'skip',
        detail: 'needs a fake that can fail on request (run without --against)',
        ms: 0,
      };
      continue;
    }
    try {
      await run.target.reset();
      await property.run({ connector: run.connector, sample: run.sample, faults: run.target.faults, next });
      yield { name: property.name, status: 'pass', ms: Date.now() - t0 };
    } catch (err) {
      const detail =
        err instanceof Error && err.name === 'ContractViolation' ? err.message : describeError(err).message;
      yield { name: property.name, status: 'fail', detail, ms: Date.now() - t0 };
    }
  }
}
