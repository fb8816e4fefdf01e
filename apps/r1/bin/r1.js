#!/usr/bin/env node
// The `r1` command. A committed launcher rather than dist/bin.js itself, so that `npm ci` on a fresh
// clone (before any build) links node_modules/.bin/r1: npm skips a bin whose file does not exist yet.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/bin.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  console.error('r1: the CLI is not built (no apps/r1/dist/bin.js); run `npm run build` first');
  process.exit(2);
}
await import(entry.href);
