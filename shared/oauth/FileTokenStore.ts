import { createHash } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { TokenSet } from './TokenSet.ts';
import { tokenSetFields, tokenSetOf } from './TokenSet.ts';
import type { StoredTokens, TokenStore } from './TokenStore.ts';

const TOKEN_FIELDS = new Set(['accessToken', 'refreshToken', 'expiresAt', 'scope', 'token']);

/**
 * Writes a secret file readable by its owner only (0600), atomically: a reader sees the old
 * content or the new, never half of it.
 */
export function writeSecretFile(path: string, fields: Readonly<Record<string, string>>): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(fields, null, 2)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

/**
 * A connection's rotating tokens in a local JSON file (what `writeback connect` writes without
 * `--stack`): the same fields as the secret, mode 0600. The version is the content's digest, so a
 * replace is a compare-and-swap within this machine; the previous content is kept beside it
 * (`<file>.previous`, 0600), as Secrets Manager keeps AWSPREVIOUS.
 */
export class FileTokenStore implements TokenStore {
  private readonly path: string;

  public constructor(path: string) {
    this.path = path;
  }

  public async read(): Promise<StoredTokens> {
    if (!existsSync(this.path)) throw new Error(`${this.path} does not exist: run \`writeback connect\``);
    const text = readFileSync(this.path, 'utf8');
    const all = JSON.parse(text) as Record<string, string>;
    const tokens = tokenSetOf(all);
    if (!tokens) throw new Error(`${this.path} holds no refreshToken: run \`writeback connect\``);
    const fields: Record<string, string> = {};
    for (const [k, v] of Object.entries(all))
      if (!TOKEN_FIELDS.has(k) && typeof v === 'string') fields[k] = v;
    return { tokens, version: digest(text), fields };
  }

  public async replace(basedOn: StoredTokens, next: TokenSet): Promise<boolean> {
    const text = readFileSync(this.path, 'utf8');
    if (digest(text) !== basedOn.version) return false;
    writeSecretFile(`${this.path}.previous`, JSON.parse(text) as Record<string, string>);
    writeSecretFile(this.path, tokenSetFields(next, basedOn.fields));
    return true;
  }
}

function digest(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
