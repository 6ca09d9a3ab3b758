// The generated reference pages (docs/commands/*.md option tables, docs/config.md) must match the
// CLI's own option definitions and the zod config schemas: a new or changed option or config key
// fails here until `node scripts/gen-docs.mjs` is run, and a command without a page fails too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, dirname, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

test('docs/commands and docs/config.md are generated from the current code', () => {
  const r = spawnSync(process.execPath, [join(root, 'scripts', 'gen-docs.mjs'), '--check'], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
});

test('the README is an entry (≤ 200 lines) and every relative link in it and in docs/ resolves to a file', () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  assert.ok(readme.split('\n').length <= 200, `README.md has ${readme.split('\n').length} lines; the detail belongs in docs/`);
  const files = ['README.md', ...mdFiles(join(root, 'docs')).map((f) => relative(root, f))];
  const broken: string[] = [];
  for (const f of files) {
    const text = readFileSync(join(root, f), 'utf8').replace(/```[\s\S]*?```/g, '');
    for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = m[1]!;
      if (/^(https?:|#|mailto:)/.test(target)) continue;
      if (!existsSync(join(root, dirname(f), target.split('#')[0]!))) broken.push(`${f}: ${target}`);
    }
  }
  assert.deepEqual(broken, []);
});

function mdFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? mdFiles(join(dir, e.name)) : e.name.endsWith('.md') ? [join(dir, e.name)] : [],
  );
}
