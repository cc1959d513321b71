// Run by `npm install` / `npm ci` (package.json "postinstall"). Makes the local SQS emulator
// (fauxqs) accept the message bodies AWS accepts: fauxqs 2.4.1 checks bodies with a regular
// expression without the `u` flag, so every character outside the Basic Multilingual Plane
// (emoji: a surrogate pair) is refused with InvalidMessageContents, which AWS does not do.
// AWS's rule: #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF.
//
// Idempotent: a patched file is left alone. Fails loudly when fauxqs is installed but the line is
// not there (a fauxqs upgrade changed it): check whether the upgrade fixed it, then update or drop
// this script. Does nothing when fauxqs is not installed (production installs omit dev deps).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const file = join(root, 'node_modules', 'fauxqs', 'dist', 'sqs', 'sqsTypes.js');

const ORIGINAL = 'export const INVALID_MESSAGE_BODY_CHAR = /[^\\x09\\x0A\\x0D\\x20-\\uD7FF\\uE000-\\uFFFD]/;';
const PATCHED =
  'export const INVALID_MESSAGE_BODY_CHAR = /[^\\x09\\x0A\\x0D\\x20-\\uD7FF\\uE000-\\uFFFD\\u{10000}-\\u{10FFFF}]/u; // patched by writeback scripts/patch-fauxqs.mjs';

if (!existsSync(file)) {
  console.log('patch-fauxqs: fauxqs not installed, nothing to patch');
  process.exit(0);
}
const text = readFileSync(file, 'utf8');
if (text.includes(PATCHED)) {
  console.log('patch-fauxqs: already patched');
  process.exit(0);
}
const count = text.split(ORIGINAL).length - 1;
if (count !== 1) {
  console.error(
    `patch-fauxqs: expected the body character check once in ${file}, found it ${count} times.\n` +
      'fauxqs changed: check whether it now accepts emoji (test/torture/sqsLimits.test.ts), then update or remove scripts/patch-fauxqs.mjs.',
  );
  process.exit(1);
}
writeFileSync(file, text.replace(ORIGINAL, PATCHED));
console.log('patch-fauxqs: fauxqs accepts characters outside the BMP (emoji), as AWS does');
