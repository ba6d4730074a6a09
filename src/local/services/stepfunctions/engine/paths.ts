/**
 * Reference paths evaluated the way the interpreter evaluates them (jsonpath-plus, unwrapped;
 * `$$.` reads the context object), for the parts of a state the local stack runs itself: a Wait
 * state's `SecondsPath`/`TimestampPath` and the item count a Map state starts with.
 */
import { JSONPath } from 'jsonpath-plus';
import type { JsonValue } from './asl.js';

/** The value `path` selects, or undefined when it selects nothing. */
export function evaluatePath(path: string, input: JsonValue, context: JsonValue): unknown {
  if (path.startsWith('$$')) return JSONPath({ path: path.slice(1), json: context, wrap: false });
  return JSONPath({ path, json: input, wrap: false });
}
