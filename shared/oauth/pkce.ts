import { createHash, randomBytes } from 'node:crypto';

/**
 * A PKCE pair (RFC 7636): a random code verifier (43 characters of base64url, within the 43–128
 * allowed) and its S256 challenge, plus a `state` to tie the callback to this request (CSRF).
 */
export function newPkce(): { readonly verifier: string; readonly challenge: string; readonly state: string } {
  const verifier = randomBytes(32).toString('base64url');
  return {
    verifier,
    challenge: createHash('sha256').update(verifier).digest('base64url'),
    state: randomBytes(16).toString('base64url'),
  };
}
