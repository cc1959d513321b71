import { existsSync, readFileSync } from 'node:fs';
import { ConfigValidationError } from '../../../shared/errors.ts';
import type { LocalConnector } from '../LocalConnector.ts';
import { startXeroFake } from './XeroFake.ts';

const WRITES = { method: 'POST', path: '/api.xro/2.0/' };

/**
 * Xero locally: the stack's Xero fake (one organisation), or the account of the connection's
 * tokenFile. No local loader of its copies yet.
 */
export const xeroLocal: LocalConnector = {
  type: 'xero',
  startFake: async () => {
    const fake = await startXeroFake({ rateLimit: false });
    return {
      creds: { token: fake.accessToken, tenantId: fake.tenantId, baseUrl: fake.url },
      faults: {
        rateLimitNext: (seconds) =>
          fake.failNext(1, 429, {
            match: WRITES,
            headers: { 'Retry-After': String(seconds), 'X-Rate-Limit-Problem': 'minute' },
          }),
        serverErrorNext: (status) => fake.failNext(1, status, { match: WRITES }),
      },
      reset: async () => fake.reset(),
      stop: () => fake.stop(),
    };
  },
  // A connection with a tokenFile (writeback connect without --stack) writes through the account
  // it holds; any other through the stack's fake.
  credentials: (connection, { xero }) => {
    const tokenFile = (connection as { tokenFile?: string }).tokenFile;
    if (tokenFile) {
      if (!existsSync(tokenFile)) {
        throw new ConfigValidationError([
          `a Xero connection's tokenFile ${tokenFile} does not exist: run \`writeback connect <connection>\` first`,
        ]);
      }
      return { ...(JSON.parse(readFileSync(tokenFile, 'utf8')) as Record<string, string>), tokenFile };
    }
    return { token: xero.accessToken, baseUrl: xero.url, tenantId: xero.tenantId };
  },
};
