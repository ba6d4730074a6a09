#!/usr/bin/env node
// mlpipe entry point: hands the command line to oclif, which loads only the command being run.

// The AWS SDK warns on Node 20 that its releases after early January 2027 will need Node 22.
// mlpipe pins SDK versions that support Node 20 (see package.json), so the warning only adds noise.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

// Node 22.1+ can keep the compiled code of the modules a command loads between runs, which
// shortens every start after the first; Node 20 has no such cache and skips this.
const { default: nodeModule } = await import('node:module');
nodeModule.enableCompileCache?.();

const { execute } = await import('@oclif/core');
await execute({ dir: import.meta.url });
