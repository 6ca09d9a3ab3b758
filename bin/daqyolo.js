#!/usr/bin/env node
// Entry point of the `daqyolo` command: the compiled CLI lives in dist/ (built by `npm run setup`).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
const main = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  console.error('daqyolo is not built yet: run `npm run setup` in ' + fileURLToPath(new URL('..', import.meta.url)));
  process.exit(1);
}
await import(main.href);
