#!/usr/bin/env node
// mlpipe entry point: hands the command line to oclif, which loads only the command being run.

// The AWS SDK warns on Node 20 that its releases after early January 2027 will need Node 22.
// mlpipe pins SDK versions that support Node 20 (see package.json), so the warning only adds noise.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const { execute } = await import('@oclif/core');
await execute({ dir: import.meta.url });
