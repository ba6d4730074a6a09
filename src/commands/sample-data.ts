import { prose } from '../lib/cli/prose.js';
import { Flags } from '@oclif/core';
import { MlpipeCommand } from '../lib/cli/base-command.js';
import { writeSampleData, type WriteSampleDataResult } from '../lib/data/sample-data.js';
import { formatBytes, formatCount, startProgressBar } from '../lib/cli/ui.js';
import { HETREC_DEFAULTS, SMALL_PRESET } from '../sampledata/generator.js';

export default class SampleData extends MlpipeCommand<typeof SampleData> {
  static override summary = 'Write a hetrec2011-format MovieLens sample (ratings and movies) to ./data/.';
  static override description = prose`Generates user_ratedmovies-timestamps.dat (TAB-separated, half-star ratings, millisecond
timestamps) and movies.dat (hetrec's 21 columns, Latin-1) with the structure real ratings have:
long-tail popularity, heavy-tailed user activity, latent taste groups and releases over time.
Deterministic for a given --seed. Defaults match hetrec2011-movielens-2k (2,113 users, 10,197
movies, 855,598 ratings); --small writes about 50k ratings for quick runs.`;
  static override examples = [
    '<%= config.bin %> sample-data',
    '<%= config.bin %> sample-data --small --out /tmp/ml',
    '<%= config.bin %> sample-data --users 500 --items 2000 --ratings 40000 --seed 7 --force',
  ];
  static override flags = {
    out: Flags.string({ description: 'Directory to write the files to.', default: 'data' }),
    small: Flags.boolean({
      description: `Small preset: ${SMALL_PRESET.users} users, ${SMALL_PRESET.items} movies, ${SMALL_PRESET.ratings} ratings.`,
    }),
    users: Flags.integer({ description: `Number of users [default: ${HETREC_DEFAULTS.users}]`, min: 1 }),
    items: Flags.integer({ description: `Number of movies [default: ${HETREC_DEFAULTS.items}]`, min: 1 }),
    ratings: Flags.integer({
      description: `Number of ratings [default: ${HETREC_DEFAULTS.ratings}]`,
      min: 1,
    }),
    seed: Flags.integer({
      description: 'Random seed; the same seed writes the same bytes.',
      default: 42,
      min: 0,
    }),
    force: Flags.boolean({ description: 'Overwrite existing files.' }),
  };

  async run(): Promise<WriteSampleDataResult> {
    const preset = this.flags.small ? SMALL_PRESET : HETREC_DEFAULTS;
    const options = {
      users: this.flags.users ?? preset.users,
      items: this.flags.items ?? preset.items,
      ratings: this.flags.ratings ?? preset.ratings,
      seed: this.flags.seed,
    };
    const bar = startProgressBar('Generating ratings', options.ratings, this.uiOptions, 'rows');
    const result = await writeSampleData(options, this.flags.out, {
      force: this.flags.force,
      onProgress: (written) => bar.update(written),
    });
    bar.finish();
    const s = result.summary;
    if (!result.written) {
      this.log(
        `${result.ratingsFile} and ${result.moviesFile} are already there, written with these options.`,
      );
      this.log('Nothing to do; use --force to write them again.');
      return result;
    }
    this.log(
      `Wrote ${result.ratingsFile} (${formatCount(s.ratings)} ratings, ${formatBytes(s.ratingsBytes)})`,
    );
    this.log(
      `Wrote ${result.moviesFile} (${formatCount(s.items)} movies, ${formatBytes(s.moviesBytes)}, Latin-1)`,
    );
    this.log(
      `${formatCount(s.users)} users, ${formatCount(s.itemsRated)} movies rated, ratings from ${new Date(s.minTimestampMs).toISOString().slice(0, 10)} to ${new Date(s.maxTimestampMs).toISOString().slice(0, 10)}, mean rating ${s.meanRating.toFixed(2)}`,
    );
    this.log('Next: `mlpipe upload-raw` puts them into the data lake.');
    return result;
  }
}
