/**
 * The local stack as users run it: started from the build (dist/), so the server process runs the
 * compiled JavaScript. (Imported from src/ under tsx, it would run the server through tsx too,
 * whose per-function helpers make it markedly slower than what ships.)
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

type LocalStackModule = typeof import('../src/lib/local/lifecycle.js');

export async function builtLocalStack(): Promise<LocalStackModule> {
  const url = new URL('../dist/lib/local/lifecycle.js', import.meta.url);
  if (!existsSync(fileURLToPath(url)))
    throw new Error('Build first: npm run build (the benchmarks use dist/).');
  return (await import(url.href)) as LocalStackModule;
}
