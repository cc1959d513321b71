import { describe, expect, it } from 'vitest';
import { isAuthRefusal, needsReconnect } from '../../../shared/connectors/authErrors.ts';
import { authPauseReason } from '../../../shared/write/checkTargetHealth.ts';

const outage = (code: string) => ({
  code,
  message: 'refused',
  connection: 'xero',
  secret: 'writeback/xero',
  since: Date.UTC(2026, 0, 2, 3, 4, 5),
  lastAt: Date.UTC(2026, 0, 2, 3, 4, 5),
});

describe('A rejected refresh token pauses the sync and asks for writeback connect', () => {
  it('counts <VENDOR>_INVALID_GRANT as an auth refusal that needs a reconnect', () => {
    expect(isAuthRefusal({ code: 'XERO_INVALID_GRANT' })).toBe(true);
    expect(needsReconnect({ code: 'XERO_INVALID_GRANT' })).toBe(true);
    expect(needsReconnect({ code: 'XERO_UNAUTHORIZED' })).toBe(false);
    expect(isAuthRefusal({ code: 'XERO_AUTH_UNAVAILABLE' })).toBe(false);
  });

  it('tells the user to run writeback connect <connection> for it, and to update the secret otherwise', () => {
    expect(authPauseReason(outage('XERO_INVALID_GRANT'))).toBe(
      'credentials refused by xero (XERO_INVALID_GRANT) since 2026-01-02T03:04:05.000Z: run `writeback connect xero`',
    );
    expect(authPauseReason(outage('XERO_UNAUTHORIZED'))).toMatch(/: update the secret writeback\/xero$/);
  });
});
