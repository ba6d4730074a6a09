/** Personalize fixtures shared by tests and benchmarks. */

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
