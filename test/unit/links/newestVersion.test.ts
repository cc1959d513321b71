import { describe, expect, it } from 'vitest';
import type { Link } from '../../../shared/links/Link.ts';
import { newestVersion } from '../../../shared/links/newestVersion.ts';

const link = (version: string | undefined, pendingVersion: string | undefined) =>
  ({ version, pendingVersion }) as Link;

describe('Function: newestVersion', () => {
  it('is undefined for a key never seen', () => expect(newestVersion(undefined)).toBeUndefined());
  it('takes a claimed version newer than the committed one', () =>
    expect(newestVersion(link('10', '12'))).toBe(12n));
  it('takes the committed version when nothing newer was claimed', () =>
    expect(newestVersion(link('10', undefined))).toBe(10n));
  it('compares exactly beyond 2^53', () =>
    expect(newestVersion(link('9007199254740993', '9007199254740992'))).toBe(9007199254740993n));
});
