// The layers of docs/architecture.md as a lint rule: an import is resolved to the file it names and
// refused when it crosses a forbidden edge. Paths are repository-relative; a zone forbids imports
// from files under `from` into files under `target`, except into the paths listed in `allow`.
import path from 'node:path';

/** The forbidden edges, each with the reason the error message gives. */
export const LAYER_ZONES = [
  {
    from: ['src/local/services'],
    target: ['src/local/protocol', 'src/local/server.ts'],
    reason:
      "services never see the wire: AWS-shaped operations only (protocol/ and the server are the router's)",
  },
  {
    from: ['src/etl', 'src/sampledata', 'src/datasets', 'src/recommender'],
    target: ['src/lib', 'src/local', 'src/commands'],
    reason: "engines are pure: no CLI and no local stack (throw the engine's own errors)",
  },
  {
    from: ['src/lib'],
    target: ['src/local/services'],
    reason: 'operations talk to services through SDK clients, never in-process',
  },
  {
    from: ['src/local'],
    target: ['src/lib', 'src/commands'],
    reason: 'the local stack knows nothing of the CLI',
  },
  {
    from: ['src/lib'],
    target: ['src/commands'],
    reason: 'operations do not call commands',
  },
  {
    from: ['src/lib', 'src/commands'],
    target: ['src/local'],
    allow: ['src/local/contract.ts'],
    onlyFrom: ['src/lib/local'],
    reason:
      'the CLI reaches the local stack only through src/local/contract.ts, from the lifecycle commands (src/lib/local)',
  },
];

function under(file, prefixes) {
  return prefixes.some((prefix) => file === prefix || file.startsWith(`${prefix}/`));
}

/** The repository-relative path an import specifier names, `.js` read as the `.ts` it is built from. */
function resolve(root, filename, specifier) {
  if (!specifier.startsWith('.')) return undefined;
  const absolute = path.resolve(path.dirname(filename), specifier).replace(/\.js$/, '.ts');
  return path.relative(root, absolute).split(path.sep).join('/');
}

/** Why an import from `file` to `imported` (both repository-relative) is refused, or undefined. */
export function forbiddenEdge(file, imported, zones = LAYER_ZONES) {
  for (const zone of zones) {
    if (!under(file, zone.from) || !under(imported, zone.target)) continue;
    const allowed =
      zone.allow !== undefined &&
      under(imported, zone.allow) &&
      (zone.onlyFrom === undefined || under(file, zone.onlyFrom));
    if (!allowed) return zone.reason;
  }
  return undefined;
}

export const layersPlugin = {
  rules: {
    layers: {
      meta: {
        type: 'problem',
        docs: { description: 'Imports must respect the layers of docs/architecture.md.' },
        schema: [],
        messages: { forbidden: '{{file}} must not import {{imported}}: {{reason}}.' },
      },
      create(context) {
        const root = context.cwd;
        const file = path.relative(root, context.filename).split(path.sep).join('/');
        const check = (node, source) => {
          if (source === null || source === undefined || typeof source.value !== 'string') return;
          const imported = resolve(root, context.filename, source.value);
          if (imported === undefined) return;
          const reason = forbiddenEdge(file, imported);
          if (reason !== undefined)
            context.report({ node, messageId: 'forbidden', data: { file, imported, reason } });
        };
        return {
          ImportDeclaration: (node) => check(node, node.source),
          ExportNamedDeclaration: (node) => check(node, node.source),
          ExportAllDeclaration: (node) => check(node, node.source),
          ImportExpression: (node) => check(node, node.source.type === 'Literal' ? node.source : null),
        };
      },
    },
  },
};
