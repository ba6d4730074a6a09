// After a build: writes oclif.manifest.json (every command's id, summary, flags and args), so
// `mlpipe --help` and command lookup read one JSON file instead of importing every command module,
// and dist/build.json, which build this is — a hash of every compiled file, so the CLI can tell a
// local stack started by another build (an older install still running after an upgrade).
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

const dist = new URL('dist/', root);
const hash = createHash('sha256');
const files = readdirSync(dist, { recursive: true, withFileTypes: true })
  .filter((entry) => entry.isFile() && entry.name.endsWith('.js'))
  .map((entry) => `${entry.parentPath ?? entry.path}/${entry.name}`)
  .sort();
for (const file of files)
  hash.update(file.slice(dist.pathname.length)).update('\0').update(readFileSync(file));
const id = `${config.pjson.version}+${hash.digest('hex').slice(0, 12)}`;
writeFileSync(new URL('build.json', dist), `${JSON.stringify({ id, version: config.pjson.version })}\n`);
console.log(`dist/build.json: ${id}`);
