/**
 * sample-data: runs the generator engine (src/sampledata) into files in an output directory.
 * Both files are written to temp names and renamed into place only when complete, so an
 * interrupted run never leaves a truncated data set behind.
 */
import { createWriteStream, existsSync, promises as fs, type WriteStream } from 'node:fs';
import path from 'node:path';
import {
  generateSampleData,
  GENRES_FILE_NAME,
  MOVIES_FILE_NAME,
  RATINGS_FILE_NAME,
  type SampleDataOptions,
  type SampleDataSummary,
} from '../../sampledata/generator.js';
import { writableSink } from '../../sampledata/sinks.js';
import { fsyncDir, tempPathFor, writeJsonAtomic } from '../../shared/atomic-file.js';
import { MlpipeError } from '../cli/errors.js';

export interface WriteSampleDataResult {
  outDir: string;
  ratingsFile: string;
  moviesFile: string;
  genresFile: string;
  /** False when identical files from an earlier run with the same options were already there. */
  written: boolean;
  summary: SampleDataSummary;
}

/** Written beside the files: which options made them, so a rerun with the same options is a no-op. */
export const SAMPLE_MARKER = '.mlpipe-sample-data.json';

interface SampleMarker {
  options: SampleDataOptions;
  summary: SampleDataSummary;
}

async function unchangedSample(
  outDir: string,
  options: SampleDataOptions,
  files: { ratingsFile: string; moviesFile: string; genresFile: string },
): Promise<SampleDataSummary | undefined> {
  try {
    const marker = JSON.parse(await fs.readFile(path.join(outDir, SAMPLE_MARKER), 'utf8')) as SampleMarker;
    const same =
      marker.options.users === options.users &&
      marker.options.items === options.items &&
      marker.options.ratings === options.ratings &&
      marker.options.seed === options.seed &&
      (await fs.stat(files.ratingsFile)).size === marker.summary.ratingsBytes &&
      (await fs.stat(files.moviesFile)).size === marker.summary.moviesBytes &&
      (await fs.stat(files.genresFile)).size === marker.summary.genresBytes;
    return same ? marker.summary : undefined;
  } catch {
    return undefined;
  }
}

async function closeAndSync(stream: WriteStream): Promise<void> {
  await new Promise<void>((resolve, reject) =>
    stream.end((error?: Error | null) => (error ? reject(error) : resolve())),
  );
  const handle = await fs.open(stream.path as string, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export async function writeSampleData(
  options: SampleDataOptions,
  outDir: string,
  settings: { force: boolean; onProgress?: (written: number, total: number) => void },
): Promise<WriteSampleDataResult> {
  const ratingsFile = path.join(outDir, RATINGS_FILE_NAME);
  const moviesFile = path.join(outDir, MOVIES_FILE_NAME);
  const genresFile = path.join(outDir, GENRES_FILE_NAME);
  if (existsSync(outDir) && !(await fs.stat(outDir)).isDirectory()) {
    throw new MlpipeError(`--out ${outDir} is a file, not a directory.`, { code: 'OUT_NOT_DIRECTORY' });
  }
  if (!settings.force) {
    const previous = await unchangedSample(outDir, options, { ratingsFile, moviesFile, genresFile });
    if (previous !== undefined)
      return { outDir, ratingsFile, moviesFile, genresFile, written: false, summary: previous };
    const existing = [ratingsFile, moviesFile].filter((file) => existsSync(file));
    if (existing.length > 0) {
      throw new MlpipeError(`${existing.join(' and ')} already exist${existing.length === 1 ? 's' : ''}.`, {
        code: 'FILE_EXISTS',
        suggestions: [
          'They were not written by `mlpipe sample-data` with these options. Use --force to overwrite, or --out DIR to write somewhere else.',
        ],
      });
    }
  }
  await fs.mkdir(outDir, { recursive: true });
  const ratingsTmp = tempPathFor(ratingsFile);
  const moviesTmp = tempPathFor(moviesFile);
  const genresTmp = tempPathFor(genresFile);
  const ratings = createWriteStream(ratingsTmp);
  const movies = createWriteStream(moviesTmp);
  const genres = createWriteStream(genresTmp);
  try {
    const summary = await generateSampleData(
      options,
      {
        ratings: writableSink<string>(ratings),
        movies: writableSink<Buffer>(movies),
        genres: writableSink<Buffer>(genres),
      },
      { onProgress: settings.onProgress },
    );
    await closeAndSync(ratings);
    await closeAndSync(movies);
    await closeAndSync(genres);
    await fs.rename(moviesTmp, moviesFile);
    await fs.rename(genresTmp, genresFile);
    await fs.rename(ratingsTmp, ratingsFile);
    await writeJsonAtomic(path.join(outDir, SAMPLE_MARKER), { options, summary } satisfies SampleMarker);
    await fsyncDir(outDir);
    return { outDir, ratingsFile, moviesFile, genresFile, written: true, summary };
  } catch (error) {
    ratings.destroy();
    movies.destroy();
    genres.destroy();
    await fs.rm(ratingsTmp, { force: true });
    await fs.rm(moviesTmp, { force: true });
    await fs.rm(genresTmp, { force: true });
    throw error;
  }
}
