/**
 * The sample-data generator's own error: options that cannot produce a valid data set, naming
 * the option. `src/lib` maps it to a usage error (exit 2).
 */
export class SampleDataError extends Error {
  readonly code = 'INVALID_SAMPLE_DATA_OPTIONS';

  constructor(
    readonly option: string,
    message: string,
  ) {
    super(message);
    this.name = 'SampleDataError';
  }
}
