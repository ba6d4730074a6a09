/** The item catalogue in the lake's raw prefix (what `mlpipe upload-raw` uploaded), read for titles. */
import type { Readable } from 'node:stream';
import type { Clients } from '../cli/clients.js';
import type { Settings } from '../cli/config.js';
import { translateAwsError } from '../cli/errors.js';
import { s3Uri } from '../data/lake.js';
import { CATALOGUE_FILES, parseCatalogue, type CatalogueEntry } from './catalogue.js';

export interface LakeCatalogue {
  source: string;
  entries: Map<string, CatalogueEntry>;
}

/** The first catalogue found under the raw prefix (movies.dat, movies.csv, u.item), or undefined. */
export async function lakeCatalogue(
  clients: Clients,
  settings: Settings,
  bucket: string,
): Promise<LakeCatalogue | undefined> {
  const s3 = await clients.s3();
  const { GetObjectCommand } = await import('@aws-sdk/client-s3');
  for (const candidate of CATALOGUE_FILES) {
    const location = { bucket, key: `${settings.prefixes.raw.value}${candidate.name}` };
    try {
      const { Body } = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: location.key }));
      const chunks: Buffer[] = [];
      for await (const chunk of Body as Readable) chunks.push(chunk as Buffer);
      return { source: s3Uri(location), entries: parseCatalogue(Buffer.concat(chunks), candidate.format) };
    } catch (error) {
      const name = (error as { name?: string }).name;
      if (name === 'NoSuchKey' || name === 'NotFound' || name === 'AccessDenied') continue;
      throw translateAwsError(error, `Reading ${s3Uri(location)}`);
    }
  }
  return undefined;
}
