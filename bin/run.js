#!/usr/bin/env node
// mlpipe entry point: hands the command line to oclif, which loads only the command being run.
import { execute } from '@oclif/core';

await execute({ dir: import.meta.url });
