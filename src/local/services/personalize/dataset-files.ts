/**
 * Where a dataset's data lives in the data dir, `<dataDir>/personalize/data/<group>/<TYPE>/data.bin`
 * (the stored format is src/datasets/interactions.ts), and reading it by dataset ARN.
 */
import path from 'node:path';
import {
  readInteractions,
  readMetadata,
  type InteractionsData,
  type MetadataData,
} from '../../../datasets/interactions.js';

export type { InteractionsData, MetadataData } from '../../../datasets/interactions.js';

export function personalizeDir(dataDir: string): string {
  return path.join(dataDir, 'personalize');
}

/** `arn:…:dataset/<group>/<TYPE>` → `<dataDir>/personalize/data/<group>/<TYPE>`. */
export function datasetDataDir(dataDir: string, datasetArn: string): string | undefined {
  const m = /:dataset\/([a-zA-Z0-9][a-zA-Z0-9\-_]{0,62})\/(INTERACTIONS|ITEMS|USERS)$/.exec(datasetArn);
  if (!m) return undefined;
  return path.join(personalizeDir(dataDir), 'data', m[1]!, m[2]!);
}

export function dataFile(dataDir: string, datasetArn: string): string | undefined {
  const dir = datasetDataDir(dataDir, datasetArn);
  return dir === undefined ? undefined : path.join(dir, 'data.bin');
}

/** The imported interactions of a dataset, or undefined if it has none (or is not INTERACTIONS). */
export async function loadInteractions(
  dataDir: string,
  datasetArn: string,
): Promise<InteractionsData | undefined> {
  const file = dataFile(dataDir, datasetArn);
  return file === undefined ? undefined : readInteractions(file);
}

/** The imported rows of an Items or Users dataset, or undefined. */
export async function loadMetadata(dataDir: string, datasetArn: string): Promise<MetadataData | undefined> {
  const file = dataFile(dataDir, datasetArn);
  return file === undefined ? undefined : readMetadata(file);
}
