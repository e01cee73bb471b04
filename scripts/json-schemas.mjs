#!/usr/bin/env node
// Writes docs/schemas/*.json, the JSON Schema of every `--json` output, from the zod schemas in
// src/render/json/schemas.ts (run after the build). `--check` exits 1 when a file is not current.
import { readFileSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { OUTPUTS } from '../dist/src/render/json/schemas.js';

const dir = new URL('../docs/schemas/', import.meta.url);
const check = process.argv.includes('--check');
let stale = 0;
for (const [name, schema] of Object.entries(OUTPUTS)) {
  const file = new URL(`${name.replace('/', '.v')}.json`, dir);
  const text = JSON.stringify({ $id: name, ...z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any' }) }, null, 2) + '\n';
  if (!check) writeFileSync(file, text);
  else if ((() => { try { return readFileSync(file, 'utf8'); } catch { return ''; } })() !== text) {
    stale++;
    console.error(`docs/schemas/${name.replace('/', '.v')}.json is not current: run npm run schemas`);
  }
}
process.exit(stale ? 1 : 0);
