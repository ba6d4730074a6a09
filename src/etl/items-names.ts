/**
 * Where items specs live and the default one: constants the CLI needs on every start (flag help,
 * defaults) without loading the spec parser and its schema library.
 */
import path from 'node:path';

export const ITEMS_SPEC_DIR = path.join('glue', 'mappings', 'items');
export const DEFAULT_ITEMS_SPEC = 'hetrec2011-movies';
