/**
 * The data lake's layout in S3: which bucket, which prefixes, and how object keys and s3:// URIs
 * are formed from the settings.
 */
import path from 'node:path';
import type { Settings } from '../cli/config.js';
import { usageError } from '../cli/errors.js';

export interface S3Location {
  bucket: string;
  key: string;
}

export function s3Uri(location: S3Location): string {
  return `s3://${location.bucket}/${location.key}`;
}

export function parseS3Uri(uri: string): S3Location {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (!m) throw usageError(`"${uri}" is not an S3 URI; expected s3://bucket/key.`, [], 'BAD_S3_URI');
  return { bucket: m[1]!, key: m[2]! };
}

/** The key a raw file lands under: `<raw prefix><file name>`, unless a key is given. */
export function rawObjectKey(settings: Settings, file: string, key?: string): string {
  const objectKey = key ?? `${settings.prefixes.raw.value}${path.basename(file)}`;
  if (objectKey === '' || objectKey.endsWith('/')) {
    throw usageError(
      `--key "${key}" names a folder; give the full object key, e.g. raw/ratings.dat.`,
      [],
      'BAD_KEY',
    );
  }
  return objectKey;
}
