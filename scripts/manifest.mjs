// Writes oclif.manifest.json (every command's id, summary, flags and args) after a build, so
// `mlpipe --help` and command lookup read one JSON file instead of importing every command module.
import { rmSync, writeFileSync } from 'node:fs';
import { Config } from '@oclif/core';

const root = new URL('..', import.meta.url);
// oclif would read a previous manifest even with ignoreManifest: remove it so new commands are found.
rmSync(new URL('oclif.manifest.json', root), { force: true });
const config = await Config.load({ root: root.pathname, ignoreManifest: true });
const plugin = config.plugins.get(config.pjson.name);
if (!plugin) throw new Error(`plugin ${config.pjson.name} not found`);
const manifest = plugin.manifest;
writeFileSync(new URL('oclif.manifest.json', root), JSON.stringify(manifest, null, 2) + '\n');
console.log(`oclif.manifest.json: ${Object.keys(manifest.commands).length} commands`);
