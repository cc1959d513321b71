import { chunks } from '../util/chunks.ts';
import type { UpsertRecord, UpsertResult } from './Connector.ts';

/**
 * Groups records so that no group names an externalId twice, keeping their order: targets refuse
 * (HubSpot) or mishandle (Xero, Salesforce) one id twice in a call, so later occurrences go in
 * later calls, the last one winning.
 */
export function waves(records: readonly UpsertRecord[]): UpsertRecord[][] {
  const out: UpsertRecord[][] = [];
  const seen = new Map<string, number>();
  for (const r of records) {
    const n = seen.get(r.externalId) ?? 0;
    seen.set(r.externalId, n + 1);
    let wave = out[n];
    if (wave === undefined) {
      wave = [];
      out[n] = wave;
    }
    wave.push(r);
  }
  return out;
}

export { chunks } from '../util/chunks.ts';

/**
 * Writes `records` one call after another, each call holding at most `size` records and never
 * one externalId twice (see waves), and gathers the calls' results.
 */
export async function writeInCalls(
  records: readonly UpsertRecord[],
  size: number,
  write: (call: readonly UpsertRecord[]) => Promise<UpsertResult[]>,
): Promise<UpsertResult[]> {
  const results: UpsertResult[] = [];
  for (const wave of waves(records)) {
    for (const call of chunks(wave, size)) results.push(...(await write(call)));
  }
  return results;
}
