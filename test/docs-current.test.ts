// The generated reference pages (docs/commands/*.md option tables, docs/config.md) must match the
// CLI's own option definitions and the zod config schemas: a new or changed option or config key
// fails here until `node scripts/gen-docs.mjs` is run, and a command without a page fails too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

test('docs/commands and docs/config.md are generated from the current code', () => {
  const r = spawnSync(process.execPath, [join(root, 'scripts', 'gen-docs.mjs'), '--check'], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
});
