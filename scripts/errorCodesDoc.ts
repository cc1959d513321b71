/**
 * Generates docs/errors.md from the error-code catalogue (shared/errorCodes.ts) and the
 * connectors' own code objects. `npm run docs:errors` (or `node scripts/errorCodesDoc.ts`) writes
 * the page; `--stdout` prints it instead. test/unit/errorCodes.test.ts fails when the page and
 * this output differ.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HttpApiErrorCode } from '../shared/connectors/httpApi/HttpApiConnector.ts';
import { HubSpotErrorCode } from '../shared/connectors/hubspot/hubspotErrors.ts';
import { QuickBooksErrorCode } from '../shared/connectors/quickbooks/quickbooksFaults.ts';
import { SalesforceErrorCode } from '../shared/connectors/salesforce/SalesforceConnector.ts';
import { StripeErrorCode } from '../shared/connectors/stripe/StripeConnector.ts';
import { XeroErrorCode } from '../shared/connectors/xero/XeroConnector.ts';
import { ERROR_CODES, type ErrorCodeInfo, type ErrorWhere } from '../shared/errorCodes.ts';

/** Where the page is written, relative to the repository root. */
export const ERRORS_DOC_PATH = 'docs/errors.md';

const ROOT = new URL('../', import.meta.url);

const SECTIONS: Record<ErrorWhere, { title: string; intro: string }> = {
  config: {
    title: 'Configuration',
    intro: 'The config file, the environment of a deployed function, or a secret it reads.',
  },
  extract: {
    title: 'Extract: reading the warehouse',
    intro:
      'Raised by an extract run. A code that stops the run is in its record (`writeback runs <sync>`, `writeback status`) and the bookmark stays; rows set aside are counted in the run (which ends `partial`), records map() refuses go to the DLQ.',
  },
  queue: {
    title: 'Queue: sending and receiving messages',
    intro: "Raised while messages go on a sync's SQS queue, or shown for messages SQS moved to the DLQ.",
  },
  write: {
    title: 'Write: the write function',
    intro:
      "In a DLQ message's attributes (`writeback dlq list <sync>`) and the key's link (`writeback links <sync> <key>`, its `lastError`).",
  },
  connector: {
    title: 'Target calls',
    intro:
      'Raised around a call to the target when the connector gave no code of its own. Vendor codes are listed under [Connector codes](#connector-codes).',
  },
  links: {
    title: 'Link table',
    intro: 'The DynamoDB table that records where each source row went.',
  },
  verify: {
    title: 'Verify',
    intro: '`writeback verify` (and the verify function) comparing the source with the target.',
  },
  rehearsal: {
    title: 'Deploy rehearsal',
    intro:
      '`writeback rehearse`: the synthesized stack run offline (docs/deploy.md, "Before your first deploy"). Each code fails the rehearsal and names the resource.',
  },
  cli: {
    title: 'The writeback command',
    intro: 'Printed as `error <code>: <message>`; the exit code says usage (2), config (3) or failure (1).',
  },
};

const ORDER: readonly ErrorWhere[] = [
  'config',
  'extract',
  'queue',
  'write',
  'connector',
  'links',
  'verify',
  'rehearsal',
  'cli',
];

/** Each connector's code object, and the file whose doc comments say what each code means. */
const CONNECTORS: readonly { name: string; object: string; file: string; codes: Record<string, string> }[] = [
  {
    name: 'HubSpot',
    object: 'HubSpotErrorCode',
    file: 'shared/connectors/hubspot/hubspotErrors.ts',
    codes: HubSpotErrorCode,
  },
  {
    name: 'Xero',
    object: 'XeroErrorCode',
    file: 'shared/connectors/xero/XeroConnector.ts',
    codes: XeroErrorCode,
  },
  {
    name: 'Salesforce',
    object: 'SalesforceErrorCode',
    file: 'shared/connectors/salesforce/SalesforceConnector.ts',
    codes: SalesforceErrorCode,
  },
  {
    name: 'Stripe',
    object: 'StripeErrorCode',
    file: 'shared/connectors/stripe/StripeConnector.ts',
    codes: StripeErrorCode,
  },
  {
    name: 'QuickBooks Online',
    object: 'QuickBooksErrorCode',
    file: 'shared/connectors/quickbooks/quickbooksFaults.ts',
    codes: QuickBooksErrorCode,
  },
  {
    name: 'Generic HTTP',
    object: 'HttpApiErrorCode',
    file: 'shared/connectors/httpApi/HttpApiConnector.ts',
    codes: HttpApiErrorCode,
  },
];

/**
 * What the codes every HTTP connector shares mean, by their key in the connector's object, for
 * entries without a doc comment of their own.
 */
const SHARED_MEANINGS: Readonly<Record<string, string>> = {
  unauthorized: "401: the credentials in the connection's secret are wrong, expired or revoked.",
  forbidden: '403: the credentials lack a permission or scope for this object.',
  notFound: '404: the object or the record does not exist in the target.',
  rejected: 'Another 4xx.',
  rateLimited: '429 from the vendor, or our own pacing would wait too long; retried.',
  server: '5xx from the vendor or a gateway in front of it; retried.',
  timeout: 'No answer within the timeout; the write may or may not have happened.',
  network: 'Connection refused, reset or closed before an answer; the write may or may not have happened.',
  badResponse: 'A 2xx whose body could not be read, or an answer that did not mention a record.',
  unknownObject: "The sync's `target.object` is not one this connector writes.",
};

/** Escapes text for a Markdown table cell. */
function cell(text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('\n', ' ');
}

function retryableText(info: ErrorCodeInfo): string {
  if (info.retryable === undefined) return '—';
  return info.retryable ? 'yes' : 'no';
}

/**
 * The doc comment above each entry of `export const <object> = { … }` in a connector's source,
 * keyed by code: the meaning the connector's author wrote. Entries without one are absent.
 */
export function connectorCodeComments(source: string, object: string): Map<string, string> {
  const out = new Map<string, string>();
  const start = source.indexOf(`export const ${object} = {`);
  if (start < 0) return out;
  const end = source.indexOf('} as const', start);
  const body = source.slice(start, end < 0 ? undefined : end);
  const entry = /\/\*\*((?:(?!\*\/)[\s\S])*)\*\/\s*\w+:\s*'([A-Z0-9_]+)'/g;
  for (const m of body.matchAll(entry)) {
    const text = m[1]!
      .split('\n')
      .map((line) => line.replace(/^\s*\*\s?/, '').trim())
      .join(' ')
      .replace(/\s+/g, ' ')
      .trim();
    out.set(m[2]!, text);
  }
  return out;
}

/** The whole page, from the catalogue and the connectors' code objects. */
export function renderErrorCodesDoc(): string {
  const lines: string[] = [
    '# Error codes',
    '',
    '<!-- Generated from shared/errorCodes.ts by `npm run docs:errors` (scripts/errorCodesDoc.ts). Do not edit by hand: test/unit/errorCodes.test.ts fails when this page and the catalogue differ. -->',
    '',
    'Every error Writeback raises on purpose carries a stable code. You meet it in a run record',
    '(`writeback status`, `writeback runs <sync>`), in a dead-lettered message',
    "(`writeback dlq list <sync>`, `writeback dlq show <sync> <key>`), in a link's `lastError`",
    "(`writeback links <sync> <key>`), in the functions' logs, and after `error` in the output of",
    "the `writeback` command. Codes starting with `WB_` are Writeback's own; the others come from a",
    "connector and name the target's answer ([Connector codes](#connector-codes)).",
    '',
    '**Retryable** — *yes*: Writeback tries again on its own (a record: the writer with backoff up',
    "to the sync's `maxReceiveCount`, then the extract re-drives the dead key a few times with",
    'growing delays; a run: the next scheduled run). *no*: the same attempt fails the same way until',
    'something is fixed (a record waits in the DLQ; after the fix,',
    "`writeback dlq redrive <sync> --key <key>`). *—*: not a record's error; the command or the run",
    'reports it.',
    '',
    '| code | where | retryable |',
    '| --- | --- | --- |',
  ];
  for (const where of ORDER) {
    for (const [code, info] of Object.entries(ERROR_CODES) as [string, ErrorCodeInfo][]) {
      if (info.where !== where) continue;
      lines.push(
        `| [\`${code}\`](#${code.toLowerCase()}) | ${SECTIONS[where].title} | ${retryableText(info)} |`,
      );
    }
  }
  for (const where of ORDER) {
    const entries = (Object.entries(ERROR_CODES) as [string, ErrorCodeInfo][]).filter(
      ([, info]) => info.where === where,
    );
    if (entries.length === 0) continue;
    lines.push('', `## ${SECTIONS[where].title}`, '', SECTIONS[where].intro);
    for (const [code, info] of entries) {
      lines.push(
        '',
        `### ${code}`,
        '',
        info.meaning,
        '',
        `**What to do:** ${info.action}`,
        '',
        `**Retryable:** ${retryableText(info)}`,
      );
    }
  }
  lines.push(
    '',
    '## Connector codes',
    '',
    "A target's refusal or failure carries its connector's code, defined with the connector",
    '(`shared/connectors/<connector>/`). Whether it is retried depends on the answer (a 5xx, a timeout',
    'or a rate limit is; a validation error is not); the DLQ message and the link show the HTTP',
    "status. How each connector reads its vendor's answers: [connectors.md](connectors.md).",
    '',
    "**Refused credentials** (every `…_UNAUTHORIZED` and `…_FORBIDDEN` code, and Postgres' `PG_28P01`",
    "and `PG_28000`) are not a record's fault and never go to the DLQ: the writer re-reads the",
    "connection's secret once and repeats the call; if the target still refuses, the records go back",
    'to the queue with a long backoff (their links say `retrying` with the code), the sync pauses',
    '(`writeback status`: `paused, bookmark kept: credentials refused by <connection> (<code>) since',
    "<time>: update the secret <name>`) and the `AuthFailures` metric's alarm fires. Update the secret;",
    'the next delivery re-reads it and the backlog drains. A refresh token the vendor rejects',
    '(`…_INVALID_GRANT`: revoked, unused too long, rotated too long ago) is refused the same way, and',
    '`status` ends with `` run `writeback connect <connection>` ``: authorise the app again.',
  );
  for (const c of CONNECTORS) {
    const comments = connectorCodeComments(readFileSync(new URL(c.file, ROOT), 'utf8'), c.object);
    lines.push(
      '',
      `### ${c.name}`,
      '',
      `\`${c.object}\` in \`${c.file}\`.`,
      '',
      '| code | meaning |',
      '| --- | --- |',
    );
    for (const [name, code] of Object.entries(c.codes)) {
      const meaning = comments.get(code) ?? SHARED_MEANINGS[name] ?? 'see [connectors.md](connectors.md)';
      lines.push(`| \`${code}\` | ${cell(meaning)} |`);
    }
  }
  lines.push(
    '',
    '### Postgres table',
    '',
    '`shared/connectors/postgres/PostgresTableConnector.ts`: `PG_` followed by the SQLSTATE of the',
    "error Postgres answered (e.g. `PG_23505`, a unique violation; `PG_22P02`, a value the column's",
    'type refuses), or by the Node error code of a connection failure (`PG_ECONNREFUSED`, else',
    '`PG_CONNECTION`). SQLSTATE classes 08, 40, 53 and 57 (connection, serialization, resources,',
    '`statement_timeout`) and connection failures are retryable; class 28 (`PG_28P01` a wrong',
    'password, `PG_28000` no such role) pauses the sync like any refused credentials (above); the',
    'rest are permanent: fix the data or the target table, then `writeback dlq redrive <sync> --all`.',
    '',
  );
  return lines.join('\n');
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const page = renderErrorCodesDoc();
  if (process.argv.includes('--stdout')) process.stdout.write(page);
  else {
    writeFileSync(new URL(ERRORS_DOC_PATH, ROOT), page);
    process.stderr.write(`wrote ${ERRORS_DOC_PATH}\n`);
  }
}
