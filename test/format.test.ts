// The code is formatted by prettier (.prettierrc.json; `npm run format` writes it): a file left
// unformatted fails here, so formatting never arrives as noise inside another change.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

test('src, test, bench, scripts and bin are formatted as prettier writes them', () => {
  const bin = join(root, 'node_modules', 'prettier', 'bin', 'prettier.cjs');
  const r = spawnSync(process.execPath, [bin, '--check', '--log-level', 'warn', 'src', 'test', 'bench', 'scripts', 'bin'], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, `unformatted (run npm run format):\n${r.stdout}${r.stderr}`);
});
