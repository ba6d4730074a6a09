/**
 * Adapters from Node.js writable streams to the sample-data generator's chunk sinks, so callers
 * (a file, an S3 upload body, stdout) get backpressure without re-implementing it.
 */
import { once } from 'node:events';
import type { Writable } from 'node:stream';

/**
 * A sink that writes each chunk to `stream` and, when the stream's buffer is full, waits for
 * 'drain' before accepting the next one. Rejects if the stream errors while waiting. Does not end
 * the stream: the caller decides when the file is complete.
 */
export function writableSink<T extends string | Buffer>(stream: Writable): (chunk: T) => Promise<void> {
  return async (chunk: T): Promise<void> => {
    // Strings are only ever ASCII (the ratings file), so the stream's default utf8 is byte-exact.
    if (!stream.write(chunk)) await once(stream, 'drain');
  };
}
