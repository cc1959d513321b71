import { describe, expect, it } from 'vitest';
import type { Link } from '../../../shared/links/Link.ts';
import { type ClaimCheckStore, sha256Hex } from '../../../shared/queue/ClaimCheck.ts';
import { sqsSafeJson } from '../../../shared/queue/sqsLimits.ts';
import { resolveClaimCheck } from '../../../shared/write/resolveClaimCheck.ts';

const stored = sqsSafeJson({
  v: 1,
  sync: 'items',
  key: 'k1',
  version: '5',
  hash: 'h5',
  payload: { a: '😀' },
});
const pointerBody = (over: Record<string, unknown> = {}) =>
  sqsSafeJson({
    v: 1,
    claimCheck: {
      bucket: 'b',
      key: 'items/x.json',
      bytes: Buffer.byteLength(stored),
      sha256: sha256Hex(stored),
    },
    sync: 'items',
    key: 'k1',
    version: '5',
    hash: 'h5',
    runId: 'r',
    enqueuedAt: 'at',
    ...over,
  });

const store = (get: ClaimCheckStore['get']): ClaimCheckStore => ({
  put: async () => ({ bucket: 'b', key: 'k' }),
  get,
  delete: async () => undefined,
});
const links = (link?: Partial<Link>) => ({ get: async () => link as Link | undefined });
const deps = (over: Partial<Parameters<typeof resolveClaimCheck>[1]> = {}) => ({
  sync: 'items',
  claimChecks: store(async () => stored),
  links: links(),
  lastAttempt: false,
  ...over,
});

describe('Function: resolveClaimCheck', () => {
  it('returns any other body as it is, without touching the store', async () => {
    // Act
    const r = await resolveClaimCheck(
      '{"v":1,"sync":"items"}',
      deps({
        claimChecks: store(async () => {
          throw new Error('no');
        }),
      }),
    );
    // Assess
    expect(r).toEqual({ kind: 'body', body: '{"v":1,"sync":"items"}' });
  });

  it('follows a pointer to the stored body when size and SHA-256 match', async () => {
    // Act
    const r = await resolveClaimCheck(pointerBody(), deps());
    // Assess
    expect(r).toMatchObject({ kind: 'body', body: stored, pointer: { key: 'k1', version: '5' } });
  });

  it('retries when the store fails, and sets the record aside as unreadable on its last attempt', async () => {
    // Prepare
    const failing = store(async () => {
      throw Object.assign(new Error('slow down'), { name: 'SlowDown' });
    });
    // Act
    const early = await resolveClaimCheck(pointerBody(), deps({ claimChecks: failing }));
    const last = await resolveClaimCheck(pointerBody(), deps({ claimChecks: failing, lastAttempt: true }));
    // Assess
    expect(early).toEqual({ kind: 'retry', message: expect.stringContaining('SlowDown: slow down') });
    expect(last).toMatchObject({ kind: 'deadLetter', code: 'WB_CLAIM_CHECK_UNREADABLE', key: 'k1' });
  });

  it('tells a gone object of a written or superseded record from a lost one, through the link', async () => {
    // Prepare
    const gone = store(async () => undefined);
    // Act
    const written = await resolveClaimCheck(
      pointerBody(),
      deps({ claimChecks: gone, links: links({ status: 'ok', hash: 'h5', version: '5' }) }),
    );
    const newer = await resolveClaimCheck(
      pointerBody(),
      deps({ claimChecks: gone, links: links({ status: 'pending', version: '5', pendingVersion: '6' }) }),
    );
    const lost = await resolveClaimCheck(
      pointerBody(),
      deps({ claimChecks: gone, links: links({ status: 'retrying', hash: 'h4', version: '4' }) }),
    );
    const never = await resolveClaimCheck(pointerBody(), deps({ claimChecks: gone }));
    // Assess
    expect(written).toEqual({ kind: 'settled', outcome: 'unchanged' });
    expect(newer).toEqual({ kind: 'settled', outcome: 'stale' });
    expect(lost).toMatchObject({ kind: 'deadLetter', code: 'WB_CLAIM_CHECK_MISSING', key: 'k1' });
    expect(never).toMatchObject({ kind: 'deadLetter', code: 'WB_CLAIM_CHECK_MISSING', key: 'k1' });
  });

  it('sets aside a body that does not match its pointer', async () => {
    // Act
    const r = await resolveClaimCheck(
      pointerBody(),
      deps({ claimChecks: store(async () => stored.replace('😀', '😁')) }),
    );
    // Assess
    expect(r).toMatchObject({ kind: 'deadLetter', code: 'WB_CLAIM_CHECK_MISMATCH', key: 'k1' });
  });

  it('sets aside a pointer when the writer has no claim-check store, and one for another sync', async () => {
    // Act
    const noStore = await resolveClaimCheck(pointerBody(), deps({ claimChecks: undefined }));
    const elsewhere = await resolveClaimCheck(pointerBody({ sync: 'other' }), deps());
    const broken = await resolveClaimCheck('{"v":1,"claimCheck":{"bucket":""}}', deps());
    // Assess
    expect(noStore).toMatchObject({
      kind: 'deadLetter',
      code: 'WB_CLAIM_CHECK_MISSING',
      message: expect.stringMatching(/WB_CLAIM_CHECK_BUCKET/),
    });
    expect(elsewhere).toMatchObject({ kind: 'deadLetter', code: 'WB_MESSAGE_INVALID', key: 'k1' });
    expect(broken).toMatchObject({ kind: 'deadLetter', code: 'WB_MESSAGE_INVALID' });
  });
});
