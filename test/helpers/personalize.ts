/** Personalize fixtures shared by tests and benchmarks. */
import { generateSampleData } from '../../src/sampledata/generator.js';

/** The interactions schema (Avro JSON) Personalize's guides use, optionally with more fields. */
export function interactionsSchema(extraFields: ReadonlyArray<{ name: string; type: unknown }> = []): string {
  return JSON.stringify({
    type: 'record',
    name: 'Interactions',
    namespace: 'com.amazonaws.personalize.schema',
    fields: [
      { name: 'USER_ID', type: 'string' },
      { name: 'ITEM_ID', type: 'string' },
      { name: 'TIMESTAMP', type: 'long' },
      ...extraFields,
    ],
    version: '1.0',
  });
}

/**
 * Interactions in Personalize's CSV format (USER_ID,ITEM_ID,TIMESTAMP in epoch seconds) from the
 * deterministic sample-data generator at a small size: real taste and time structure, so training
 * and its metrics mean something, in a fraction of a second.
 */
export async function sampleInteractionsCsv(
  options: { users: number; items: number; ratings: number; seed?: number } = {
    users: 60,
    items: 200,
    ratings: 1500,
  },
): Promise<string> {
  const chunks: string[] = [];
  await generateSampleData(
    { seed: 7, ...options },
    { ratings: (chunk) => void chunks.push(chunk), movies: () => undefined },
  );
  const lines = chunks
    .join('')
    .split('\n')
    .slice(1)
    .filter((line) => line !== '');
  const csv = lines.map((line) => {
    const [user, item, , ms] = line.split('\t') as [string, string, string, string];
    return `${user},${item},${Math.floor(Number(ms) / 1000)}`;
  });
  return `USER_ID,ITEM_ID,TIMESTAMP\n${csv.join('\n')}\n`;
}

/** The items schema of templates/personalize.yaml (with CREATION_TIMESTAMP). */
export const ITEMS_WITH_CREATION_SCHEMA = JSON.stringify({
  type: 'record',
  name: 'Items',
  namespace: 'com.amazonaws.personalize.schema',
  fields: [
    { name: 'ITEM_ID', type: 'string' },
    { name: 'CREATION_TIMESTAMP', type: ['null', 'long'] },
  ],
  version: '1.0',
});
