import { createServer, type Server } from 'node:http';
import { loadConfigFile } from '../shared/config/loadConfig.ts';
import type { ConnectionConfig, WritebackConfig } from '../shared/config/schema.ts';
import type { ConnectorDefinition } from '../shared/connectors/ConnectorDefinition.ts';
import { OAuthTokenEndpoint } from '../shared/connectors/http/OAuthTokenEndpoint.ts';
import { Secret } from '../shared/connectors/http/Secret.ts';
import { connectorDefinition } from '../shared/connectors/registry.ts';
import {
  describeMissing,
  missingScopes,
  type OAuthAccount,
  type OAuthApp,
} from '../shared/oauth/OAuthApp.ts';
import { newPkce } from '../shared/oauth/pkce.ts';
import { tokenSetFields } from '../shared/oauth/TokenSet.ts';
import { UsageError } from '../shared/ops/errors.ts';
import { runStaticConnect } from './connectStatic.ts';
import { type StoreOptions, storeConnection } from './connectStore.ts';
import { syncUses } from './connectUses.ts';
import { EXIT } from './output.ts';
import { type Prompt, terminalPrompt } from './prompt.ts';

/** The environment variable `writeback connect` reads an OAuth app's client secret from. */
export const CLIENT_SECRET_ENV = 'WRITEBACK_CLIENT_SECRET';

export interface ConnectOptions extends StoreOptions {
  readonly configPath: string;
  /** Connect through the vendor's OAuth app where it also takes a static credential (HubSpot, Salesforce). */
  readonly oauth?: boolean;
  /** The organisation/tenant to connect, by id or name, when the grant reaches several. */
  readonly tenant?: string;
  /** The OAuth app's client id. @default prompted */
  readonly clientId?: string;
  /** A PKCE app without a client secret: none is asked for. */
  readonly publicClient?: boolean;
  /** Loopback port of the redirect URI (register http://127.0.0.1:<port>/callback with the app). @default a random free port */
  readonly port?: number;
  /** How long to wait for the browser's redirect. @default 300_000 */
  readonly timeoutMs?: number;
  /** Where lines go. @default stdout */
  readonly out?: (line: string) => void;
  /** Questions to the user. @default the terminal (none without one) */
  readonly prompt?: Prompt;
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/**
 * `writeback connect <connection>`. A vendor with static credentials (the definition's
 * `credentials`: HubSpot, Stripe, Salesforce) goes through runStaticConnect. Otherwise it
 * authorises an account with the vendor's OAuth 2.0 app from a terminal. PKCE plus a loopback redirect on 127.0.0.1 (the URL to open is printed; the browser
 * comes back to a one-request server here), the code exchanged for tokens, the granted scopes
 * checked against what the configured syncs write, the organisation chosen, and the token set
 * stored where the deployment reads it: the connection's secret (`--stack`, a new version; the
 * previous one stays as AWSPREVIOUS) or a local file with mode 0600. Returns the exit code.
 */
export async function runConnect(connectionName: string, opts: ConnectOptions): Promise<number> {
  const out = opts.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const env = opts.env ?? process.env;
  const prompt = opts.prompt ?? terminalPrompt();
  const config = await loadConfigFile(opts.configPath);
  const { connection, definition } = connectionOf(config, connectionName);
  if (definition.credentials && !opts.oauth) {
    return runStaticConnect(connectionName, connection, definition, syncUses(config, connectionName), {
      ...opts,
      out,
      env,
      prompt,
    });
  }
  const oauth = definition.oauth as OAuthApp | undefined;
  if (!oauth) {
    throw new UsageError(
      definition.credentials
        ? `${definition.title} has no OAuth app flow: run \`writeback connect ${connectionName}\` without --oauth`
        : `${definition.title} connections are not connected with \`writeback connect\`: put the credentials in the connection's secret (${connection.secret ?? `connections.${connectionName}.secret`})`,
    );
  }
  const needs = oauth.scopesFor(syncUses(config, connectionName));
  const clientId = opts.clientId ?? (await ask(prompt, `${definition.title} app client id: `, false));
  const secretText =
    env[CLIENT_SECRET_ENV] ??
    (opts.publicClient ? '' : await ask(prompt, 'Client secret (empty for a PKCE app): ', true));
  const clientSecret = secretText ? new Secret(secretText) : undefined;

  const pkce = newPkce();
  const callback = await loopback(opts.port ?? 0, pkce.state);
  try {
    const params = new URLSearchParams({
      response_type: 'code',
      client_id: clientId,
      redirect_uri: callback.redirectUri,
      scope: [...new Set(needs.map((n) => n.scope))].join(' '),
      state: pkce.state,
      ...(oauth.pkce ? { code_challenge: pkce.challenge, code_challenge_method: 'S256' } : {}),
    });
    out(`Open this URL in a browser and authorise Writeback with ${definition.title}:`);
    out(`  ${oauth.authorizeUrl(connection)}?${params}`);
    out(`Waiting for ${definition.title} to send the browser back to ${callback.redirectUri} …`);
    const code = await callback.code(opts.timeoutMs ?? 300_000);

    const endpoint = new OAuthTokenEndpoint({
      tokenUrl: oauth.tokenUrl(connection),
      clientId,
      ...(clientSecret ? { clientSecret } : {}),
      clientAuth: oauth.clientAuth,
      codePrefix: definition.type.toUpperCase().replace(/-/g, '_'),
      vendor: definition.title,
      connection: connectionName,
      ...(oauth.invalidGrant ? { invalidGrant: (b) => oauth.invalidGrant!(b) } : {}),
    });
    const answered = await endpoint.exchangeCode(
      code,
      callback.redirectUri,
      oauth.pkce ? pkce.verifier : undefined,
    );
    const scope = answered.scope ?? (await oauth.scopesOf?.(connection, answered.accessToken));
    const tokens = { ...answered, ...(scope ? { scope } : {}) };
    const missing = missingScopes(tokens.scope, needs);
    if (missing.length > 0) {
      out(
        `${definition.title} granted ${tokens.scope ?? 'no scopes'}; missing: ${describeMissing(missing)}. Nothing was stored: authorise again and grant them (or enable them for the app).`,
      );
      return EXIT.failed;
    }
    const account = await chooseAccount(
      await oauth.accounts(connection, tokens.accessToken),
      opts.tenant,
      prompt,
      definition.title,
    );
    const denied =
      (await oauth.permissionsMissing?.(
        connection,
        account,
        tokens.accessToken,
        syncUses(config, connectionName),
      )) ?? [];
    if (denied.length > 0) {
      out(
        `${connectionName}: ${account.name} lacks what its syncs need: ${describeMissing(denied)}. Nothing was stored: grant them and run \`writeback connect ${connectionName} --oauth\` again.`,
      );
      return EXIT.failed;
    }
    const fields = tokenSetFields(tokens, {
      clientId,
      ...(clientSecret ? { clientSecret: clientSecret.reveal() } : {}),
      ...oauth.accountFields(account),
    });
    const where = await storeConnection(connectionName, connection, fields, opts);
    out(`Connected ${connectionName} to ${account.name} (${account.id}); scopes: ${tokens.scope ?? ''}`);
    out(`Stored in ${where}.`);
    return EXIT.ok;
  } finally {
    await callback.close();
  }
}

/** The connection and its definition; a usage error naming the known ones otherwise. */
function connectionOf(
  config: WritebackConfig,
  name: string,
): { connection: ConnectionConfig; definition: ConnectorDefinition } {
  const connection = config.connections[name];
  if (!connection) {
    throw new UsageError(
      `unknown connection '${name}' (known: ${Object.keys(config.connections).join(', ')})`,
    );
  }
  return { connection, definition: connectorDefinition(connection.type)! };
}

async function ask(prompt: Prompt | undefined, question: string, hidden: boolean): Promise<string> {
  if (!prompt) {
    throw new UsageError(
      hidden
        ? `no terminal to ask for the client secret on: set ${CLIENT_SECRET_ENV}, or pass --public-client for a PKCE app`
        : 'no terminal to ask for the client id on: pass --client-id',
    );
  }
  return (hidden ? prompt.askHidden(question) : prompt.ask(question)).then((a) => a.trim());
}

/** The account to connect: named by --tenant, the only one, or chosen at the prompt. */
async function chooseAccount(
  accounts: readonly OAuthAccount[],
  wanted: string | undefined,
  prompt: Prompt | undefined,
  vendor: string,
): Promise<OAuthAccount> {
  const list = accounts.map((a) => `${a.name} (${a.id})`).join(', ');
  if (accounts.length === 0) throw new UsageError(`the authorisation reaches no ${vendor} organisation`);
  if (wanted !== undefined) {
    const found = accounts.find((a) => a.id === wanted || a.name === wanted);
    if (!found) throw new UsageError(`--tenant ${wanted}: not among the authorised organisations: ${list}`);
    return found;
  }
  if (accounts.length === 1) return accounts[0]!;
  if (!prompt)
    throw new UsageError(
      `the authorisation reaches several organisations: pass --tenant <id|name> (${list})`,
    );
  const menu = accounts.map((a, i) => `  ${i + 1}. ${a.name} (${a.id})`).join('\n');
  const answer = await prompt.ask(`${menu}\nWhich organisation (1-${accounts.length})? `);
  const chosen = accounts[Number.parseInt(answer, 10) - 1];
  if (!chosen) throw new UsageError(`'${answer.trim()}' is not one of 1-${accounts.length}`);
  return chosen;
}

/**
 * A one-request HTTP server on 127.0.0.1 for the OAuth redirect: it takes the first request to
 * /callback whose state matches, answers the browser with a page saying what happened, and hands
 * the code (or the vendor's error) to the waiting command.
 */
async function loopback(
  port: number,
  state: string,
): Promise<{ redirectUri: string; code(timeoutMs: number): Promise<string>; close(): Promise<void> }> {
  let settle!: (r: { code?: string; error?: string }) => void;
  const result = new Promise<{ code?: string; error?: string }>((resolve) => {
    settle = resolve;
  });
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== '/callback') {
      res.writeHead(404).end();
      return;
    }
    const q = url.searchParams;
    let outcome: { code?: string; error?: string };
    if (q.get('state') !== state)
      outcome = { error: 'the answer did not carry the state sent (a forged or stale redirect)' };
    else if (q.get('error'))
      outcome = {
        error: `${q.get('error')}${q.get('error_description') ? `: ${q.get('error_description')}` : ''}`,
      };
    else if (q.get('code')) outcome = { code: q.get('code')! };
    else outcome = { error: 'the redirect carried no code' };
    res
      .writeHead(outcome.code ? 200 : 400, {
        'Content-Type': 'text/html; charset=utf-8',
        Connection: 'close',
      })
      .end(
        outcome.code
          ? '<html><body><h1>Writeback is connected</h1><p>You can close this tab and go back to the terminal.</p></body></html>'
          : '<html><body><h1>Writeback was not connected</h1><p>See the terminal.</p></body></html>',
      );
    settle(outcome);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const bound = typeof address === 'object' && address ? address.port : port;
  return {
    redirectUri: `http://127.0.0.1:${bound}/callback`,
    code: async (timeoutMs) => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<{ code?: string; error?: string }>((resolve) => {
        timer = setTimeout(
          () => resolve({ error: `no redirect within ${Math.round(timeoutMs / 1000)} s` }),
          timeoutMs,
        );
      });
      const r = await Promise.race([result, timeout]).finally(() => clearTimeout(timer));
      if (!r.code) throw new UsageError(`authorisation failed: ${r.error}`);
      return r.code;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
