#!/usr/bin/env node
// Writes oclif.manifest.json after a build: with it, a call loads only the command it runs
// (flags, args and help come from the manifest), instead of importing every command module.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Plugin } from '@oclif/core';

const root = join(import.meta.dirname, '..');
const plugin = new Plugin({ root, type: 'core', ignoreManifest: true, errorOnManifestCreate: true });
await plugin.load();
writeFileSync(join(root, 'oclif.manifest.json'), JSON.stringify(plugin.manifest) + '\n');
