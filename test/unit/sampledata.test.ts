/**
 * Unit tests for the sample-data engine (src/sampledata): byte-level determinism, the exact
 * hetrec file formats (including Latin-1 movies.dat), the statistical shape of the data, and that
 * it is learnable: a simple item-kNN beats most-popular on a per-user temporal holdout.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import {
  generateSampleData,
  GENRES,
  HETREC_DEFAULTS,
  MIN_RATINGS_PER_USER,
  MOVIES_COLUMNS,
  RATINGS_COLUMNS,
  SMALL_PRESET,
  validateSampleDataOptions,
  type SampleDataOptions,
  type SampleDataSummary,
} from '../../src/sampledata/generator.js';
import { fromEngineError, MlpipeError } from '../../src/lib/cli/errors.js';
import { writableSink } from '../../src/sampledata/sinks.js';

interface Generated {
  ratings: string;
  movies: Buffer;
  summary: SampleDataSummary;
  ratingChunks: number;
}

async function generate(options: SampleDataOptions, chunkSize?: number): Promise<Generated> {
  const ratings: string[] = [];
  const movies: Buffer[] = [];
  const summary = await generateSampleData(
    options,
    {
      ratings: (chunk) => {
        ratings.push(chunk);
      },
      movies: (chunk) => {
        movies.push(chunk);
      },
    },
    chunkSize === undefined ? {} : { chunkSize },
  );
  return { ratings: ratings.join(''), movies: Buffer.concat(movies), summary, ratingChunks: ratings.length };
}

interface Rating {
  user: number;
  movie: number;
  rating: number;
  ts: number;
}

function parseRatings(text: string): Rating[] {
  const lines = text.split('\n');
  assert.equal(lines.pop(), '', 'ratings file ends with a newline');
  lines.shift();
  return lines.map((line) => {
    const [user, movie, rating, ts] = line.split('\t');
    return { user: Number(user), movie: Number(movie), rating: Number(rating), ts: Number(ts) };
  });
}

function movieRows(buf: Buffer): string[][] {
  const lines = buf.toString('latin1').split('\n');
  assert.equal(lines.pop(), '', 'movies.dat ends with a newline');
  return lines.map((line) => line.split('\t'));
}

// The small preset is shared by the format, shape and learnability tests (generated once).
let smallPromise: Promise<Generated> | undefined;
function small(): Promise<Generated> {
  smallPromise ??= generate(SMALL_PRESET);
  return smallPromise;
}

describe('sample data: determinism', () => {
  const options: SampleDataOptions = { users: 150, items: 800, ratings: 9000, seed: 7 };

  it('produces identical bytes for the same options, whatever the chunk size or sink kind', async () => {
    const a = await generate(options);
    const b = await generate(options, 1024);
    assert.equal(a.ratings, b.ratings);
    assert.ok(a.movies.equals(b.movies));
    assert.ok(b.ratingChunks > a.ratingChunks, 'a smaller chunk size yields more chunks');

    // Async sinks (backpressure) see the same bytes.
    const chunks: string[] = [];
    await generateSampleData(options, {
      ratings: async (chunk) => {
        await new Promise((resolve) => setImmediate(resolve));
        chunks.push(chunk);
      },
      movies: async () => {},
    });
    assert.equal(chunks.join(''), a.ratings);
  });

  it('streams into slow Writables through writableSink with backpressure', async () => {
    const collected: Buffer[] = [];
    let drains = 0;
    const slow = new Writable({
      highWaterMark: 1024,
      write(chunk: Buffer, _encoding, callback) {
        collected.push(chunk);
        setImmediate(callback);
      },
    });
    slow.on('drain', () => drains++);
    const movies: Buffer[] = [];
    const movieStream = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        movies.push(chunk);
        callback();
      },
    });
    await generateSampleData(options, { ratings: writableSink(slow), movies: writableSink(movieStream) });
    const expected = await generate(options);
    assert.equal(Buffer.concat(collected).toString('latin1'), expected.ratings);
    assert.ok(Buffer.concat(movies).equals(expected.movies));
    assert.ok(drains > 0, 'waited for drain');
  });

  it('produces different data for a different seed', async () => {
    const a = await generate(options);
    const b = await generate({ ...options, seed: 8 });
    assert.notEqual(a.ratings, b.ratings);
    assert.ok(!a.movies.equals(b.movies));
    assert.equal(parseRatings(b.ratings).length, options.ratings);
  });
});

describe('sample data: file formats', () => {
  it('writes the ratings file in hetrec format', async () => {
    const { ratings, summary } = await small();
    assert.ok(ratings.startsWith('userID\tmovieID\trating\ttimestamp\n'));
    assert.equal(RATINGS_COLUMNS.join('\t'), 'userID\tmovieID\trating\ttimestamp');
    assert.ok(!ratings.includes('\r'), 'LF line endings');
    const lines = ratings.split('\n').slice(1, -1);
    assert.equal(lines.length, SMALL_PRESET.ratings);
    for (const line of lines) {
      const cols = line.split('\t');
      assert.equal(cols.length, 4, line);
      assert.match(cols[0] as string, /^[1-9]\d*$/, line);
      assert.match(cols[1] as string, /^[1-9]\d*$/, line);
      // Half stars, integers without ".0" (hetrec writes 1, 4.5, 5).
      assert.match(cols[2] as string, /^(0\.5|[1-4](\.5)?|5)$/, line);
      // Milliseconds of whole seconds. 13 digits from 2001-09-09 on; earlier ratings (hetrec's
      // start in 1997) have 12, so the range check below is what rules out plain seconds.
      assert.match(cols[3] as string, /^\d{9,10}000$/, line);
    }

    const rows = parseRatings(ratings);
    const perUser = new Map<number, number>();
    const pairs = new Set<string>();
    let previous: Rating | undefined;
    for (const r of rows) {
      perUser.set(r.user, (perUser.get(r.user) ?? 0) + 1);
      const pair = `${r.user}:${r.movie}`;
      assert.ok(!pairs.has(pair), `duplicate rating ${pair}`);
      pairs.add(pair);
      if (previous) {
        // Sorted by userID, then timestamp.
        assert.ok(r.user > previous.user || (r.user === previous.user && r.ts >= previous.ts));
      }
      previous = r;
    }
    assert.equal(perUser.size, SMALL_PRESET.users);
    assert.ok(Math.min(...perUser.values()) >= MIN_RATINGS_PER_USER);
    // As in hetrec, the first users are 75 and 78: the README's `show-recs --user 75` finds them.
    assert.deepEqual([...perUser.keys()].slice(0, 2), [75, 78]);
    const timestamps = rows.map((r) => r.ts);
    const minTs = Math.min(...timestamps);
    const maxTs = Math.max(...timestamps);
    assert.ok(minTs >= Date.UTC(1997, 0, 1) && maxTs <= Date.UTC(2009, 1, 1), `${minTs}..${maxTs}`);
    assert.ok(timestamps.some((ts) => String(ts).length === 13));

    assert.equal(summary.ratings, SMALL_PRESET.ratings);
    assert.equal(summary.users, SMALL_PRESET.users);
    assert.equal(summary.items, SMALL_PRESET.items);
    assert.equal(summary.minTimestampMs, minTs);
    assert.equal(summary.maxTimestampMs, maxTs);
    assert.equal(summary.ratingsBytes, ratings.length);
    assert.deepEqual(
      summary.ratingCounts.map((c) => c.rating),
      [0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5],
    );
    for (const { rating, count } of summary.ratingCounts) {
      assert.equal(count, rows.filter((r) => r.rating === rating).length, `count of ${rating}`);
    }
    const mean = rows.reduce((s, r) => s + r.rating, 0) / rows.length;
    assert.ok(Math.abs(summary.meanRating - mean) < 1e-9);
    assert.ok(mean > 3 && mean < 4, `mean rating ${mean}`);
    assert.equal(summary.ratingsPerUser.min, Math.min(...perUser.values()));
    assert.equal(summary.ratingsPerUser.max, Math.max(...perUser.values()));
  });

  it('writes movies.dat as Latin-1 with the 21 hetrec columns', async () => {
    const { movies, summary } = await small();
    assert.equal(summary.moviesBytes, movies.length);
    assert.ok(!movies.includes('\r'), 'LF line endings');
    assert.ok(
      movies.some((byte) => byte >= 0x80),
      'has non-ASCII bytes',
    );
    assert.throws(() => new TextDecoder('utf-8', { fatal: true }).decode(movies), 'is not valid UTF-8');
    const text = movies.toString('latin1');
    assert.ok(/[éñüó]/.test(text), 'accented letters survive a Latin-1 read');

    const rows = movieRows(movies);
    assert.deepEqual(rows[0], [...MOVIES_COLUMNS]);
    assert.equal(MOVIES_COLUMNS.length, 21);
    const data = rows.slice(1);
    assert.equal(data.length, SMALL_PRESET.items);
    let previousId = 0;
    let missing = 0;
    for (const cols of data) {
      assert.equal(cols.length, 21, cols.join('|'));
      const [id, title, imdbId, , , year, rtId] = cols as [
        string,
        string,
        string,
        string,
        string,
        string,
        string,
      ];
      assert.ok(Number(id) > previousId, 'ids unique and ascending');
      previousId = Number(id);
      assert.ok(title.length > 0 && !title.includes('\\N'));
      assert.match(imdbId, /^\d{7}$/);
      assert.match(year, /^(19[2-9]\d|200\d)$/);
      assert.ok(
        cols.every((c) => c.length > 0),
        'no empty fields: missing is \\N',
      );
      if (rtId === '\\N') {
        missing++;
        assert.ok(
          cols.slice(7).every((c) => c === '\\N'),
          'no RT record: every RT column is \\N',
        );
        continue;
      }
      const n = cols.slice(7, 20).map(Number);
      assert.ok(
        n.every((x) => Number.isFinite(x) && x >= 0),
        cols.join('|'),
      );
      const [, allReviews, allFresh, allRotten, allScore, , topReviews, topFresh, topRotten] = n as number[];
      assert.equal((allFresh as number) + (allRotten as number), allReviews);
      assert.equal((topFresh as number) + (topRotten as number), topReviews);
      assert.ok((allScore as number) <= 100);
      assert.ok((n[10] as number) <= 5, 'audience rating is out of 5');
    }
    assert.ok(missing > 0 && missing < data.length / 4, `${missing} movies without RT data`);
  });

  it('only references existing movies, rated after their release', async () => {
    const { ratings, movies } = await small();
    const year = new Map<number, number>();
    for (const cols of movieRows(movies).slice(1)) year.set(Number(cols[0]), Number(cols[5]));
    let rated = 0;
    for (const r of parseRatings(ratings)) {
      const released = year.get(r.movie);
      assert.ok(released !== undefined, `movie ${r.movie} is in movies.dat`);
      assert.ok(
        new Date(r.ts).getUTCFullYear() >= released,
        `movie ${r.movie} (${released}) rated at ${r.ts}`,
      );
      rated++;
    }
    assert.equal(rated, SMALL_PRESET.ratings);
  });
});

describe('sample data: shape', () => {
  it('has long-tail item popularity and heavy-tailed user activity', async () => {
    const rows = parseRatings((await small()).ratings);
    const perItem = new Map<number, number>();
    const perUser = new Map<number, number>();
    for (const r of rows) {
      perItem.set(r.movie, (perItem.get(r.movie) ?? 0) + 1);
      perUser.set(r.user, (perUser.get(r.user) ?? 0) + 1);
    }
    const itemCounts = [...perItem.values()].sort((a, b) => b - a);
    const head = itemCounts.slice(0, Math.ceil(SMALL_PRESET.items / 10)).reduce((s, c) => s + c, 0);
    assert.ok(head / rows.length > 0.4, `top 10% of movies get ${head / rows.length} of ratings`);
    assert.ok(perItem.size > 0.9 * SMALL_PRESET.items, 'most movies are rated at least once');

    const userCounts = [...perUser.values()].sort((a, b) => a - b);
    const median = userCounts[userCounts.length >> 1] as number;
    const max = userCounts[userCounts.length - 1] as number;
    assert.ok(max >= 8 * median, `max ${max} vs median ${median}`);
    assert.ok(max <= SMALL_PRESET.items);
  });

  it('drifts towards newer movies over time', async () => {
    const { ratings, movies } = await small();
    const year = new Map<number, number>();
    for (const cols of movieRows(movies).slice(1)) year.set(Number(cols[0]), Number(cols[5]));
    const early: number[] = [];
    const late: number[] = [];
    for (const r of parseRatings(ratings)) {
      const y = new Date(r.ts).getUTCFullYear();
      if (y < 2000) early.push(year.get(r.movie) as number);
      if (y >= 2006) late.push(year.get(r.movie) as number);
    }
    const mean = (xs: number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;
    assert.ok(early.length > 1000 && late.length > 1000);
    assert.ok(
      mean(late) - mean(early) > 4,
      `mean movie year ${mean(early)} before 2000, ${mean(late)} after 2006`,
    );
  });
});

describe('sample data: learnability', () => {
  it('lets item-kNN beat most-popular on a per-user temporal holdout', async (t) => {
    const rows = parseRatings((await small()).ratings);
    const itemIndex = new Map<number, number>();
    for (const r of rows) if (!itemIndex.has(r.movie)) itemIndex.set(r.movie, itemIndex.size);
    const n = itemIndex.size;

    // Rows are sorted by user then time: the newest 10% of each user's ratings are the truth.
    const train: number[][] = [];
    const truth: Set<number>[] = [];
    for (let start = 0; start < rows.length;) {
      let end = start;
      while (end < rows.length && (rows[end] as Rating).user === (rows[start] as Rating).user) end++;
      const items = rows.slice(start, end).map((r) => itemIndex.get(r.movie) as number);
      const held = Math.max(1, Math.round(items.length * 0.1));
      train.push(items.slice(0, items.length - held));
      truth.push(new Set(items.slice(items.length - held)));
      start = end;
    }

    const popularity = new Float64Array(n);
    for (const items of train) for (const i of items) popularity[i] = (popularity[i] as number) + 1;
    // Item-item cosine similarity from training co-occurrence.
    const sim = new Float32Array(n * n);
    for (const items of train) {
      for (const a of items)
        for (const b of items) if (a !== b) sim[a * n + b] = (sim[a * n + b] as number) + 1;
    }
    for (let a = 0; a < n; a++) {
      for (let b = 0; b < n; b++) {
        const c = sim[a * n + b] as number;
        if (c > 0) sim[a * n + b] = c / Math.sqrt((popularity[a] as number) * (popularity[b] as number));
      }
    }

    const top10 = (score: Float64Array, seen: Set<number>): number[] => {
      const candidates: number[] = [];
      for (let i = 0; i < n; i++) if (!seen.has(i)) candidates.push(i);
      candidates.sort((a, b) => (score[b] as number) - (score[a] as number) || a - b);
      return candidates.slice(0, 10);
    };
    const evaluate = (recs: number[], relevant: Set<number>): { precision: number; ndcg: number } => {
      let dcg = 0;
      let hits = 0;
      recs.forEach((item, rank) => {
        if (relevant.has(item)) {
          hits++;
          dcg += 1 / Math.log2(rank + 2);
        }
      });
      let ideal = 0;
      for (let rank = 0; rank < Math.min(10, relevant.size); rank++) ideal += 1 / Math.log2(rank + 2);
      return { precision: hits / 10, ndcg: dcg / ideal };
    };

    const totals = { popP: 0, popN: 0, knnP: 0, knnN: 0 };
    const score = new Float64Array(n);
    train.forEach((items, u) => {
      const seen = new Set(items);
      const relevant = truth[u] as Set<number>;
      const pop = evaluate(top10(popularity, seen), relevant);
      score.fill(0);
      for (const i of items) {
        const row = i * n;
        for (let j = 0; j < n; j++) score[j] = (score[j] as number) + (sim[row + j] as number);
      }
      const knn = evaluate(top10(score, seen), relevant);
      totals.popP += pop.precision;
      totals.popN += pop.ndcg;
      totals.knnP += knn.precision;
      totals.knnN += knn.ndcg;
    });
    const users = train.length;
    const figures = {
      popularityPrecisionAt10: totals.popP / users,
      knnPrecisionAt10: totals.knnP / users,
      popularityNdcgAt10: totals.popN / users,
      knnNdcgAt10: totals.knnN / users,
    };
    t.diagnostic(JSON.stringify(figures));
    assert.ok(figures.popularityPrecisionAt10 > 0.01, 'popularity is a real baseline');
    assert.ok(
      figures.knnPrecisionAt10 >= 1.3 * figures.popularityPrecisionAt10,
      `precision@10 knn ${figures.knnPrecisionAt10} vs popularity ${figures.popularityPrecisionAt10}`,
    );
    assert.ok(
      figures.knnNdcgAt10 >= 1.3 * figures.popularityNdcgAt10,
      `NDCG@10 knn ${figures.knnNdcgAt10} vs popularity ${figures.popularityNdcgAt10}`,
    );
  });
});

describe('sample data: option validation', () => {
  const base: SampleDataOptions = { users: 10, items: 100, ratings: 500, seed: 1 };
  const cases: [Partial<SampleDataOptions>, string, RegExp][] = [
    [{ users: 0 }, 'users', /at least 1/],
    [{ users: 2.5 }, 'users', /whole number/],
    [{ items: 4 }, 'items', /at least 5/],
    [{ ratings: 49 }, 'ratings', /at least 50/],
    [{ ratings: 1001 }, 'ratings', /10 users x 100 movies = 1000/],
    [{ seed: -1 }, 'seed', /zero or positive/],
    [{ seed: Number.NaN }, 'seed', /whole number/],
    [{ items: 10_000_000 }, 'items', /at most/],
  ];
  for (const [patch, option, message] of cases) {
    it(`rejects ${JSON.stringify(patch)} naming "${option}"`, () => {
      assert.throws(
        () => validateSampleDataOptions({ ...base, ...patch }),
        (thrown: unknown) => {
          const error = fromEngineError(thrown);
          return (
            error instanceof MlpipeError &&
            error.exit === 2 &&
            error.code === 'INVALID_SAMPLE_DATA_OPTIONS' &&
            error.message.includes(`"${option}"`) &&
            message.test(error.message)
          );
        },
      );
    });
  }

  it('rejects before writing anything', async () => {
    let calls = 0;
    await assert.rejects(
      generateSampleData(
        { ...base, ratings: 1 },
        { ratings: () => void calls++, movies: () => void calls++ },
      ),
      /"ratings"/,
    );
    assert.equal(calls, 0);
  });

  it('accepts the presets and handles the tightest and densest valid options', async () => {
    validateSampleDataOptions(HETREC_DEFAULTS);
    validateSampleDataOptions(SMALL_PRESET);
    const tiny = await generate({ users: 1, items: 5, ratings: 5, seed: 0 });
    assert.equal(parseRatings(tiny.ratings).length, 5);
    // Every user rates every movie: exercises the exact fallback past the taste-driven draws.
    const dense = await generate({ users: 4, items: 60, ratings: 240, seed: 3 });
    const rows = parseRatings(dense.ratings);
    assert.equal(new Set(rows.map((r) => `${r.user}:${r.movie}`)).size, 240);
  });
});

describe('sample data: hetrec-size default', () => {
  it('streams exactly 855,598 ratings from 2,113 users over 10,197 movies', async (t) => {
    const movieIds = new Set<number>();
    let moviesText = '';
    let ratingLines = 0;
    let users = 0;
    let pending = '';
    let lastUser = '';
    let userMovies = new Set<string>();
    let maxChunk = 0;
    let chunks = 0;
    const started = performance.now();
    const summary = await generateSampleData(HETREC_DEFAULTS, {
      movies: (chunk) => {
        moviesText += chunk.toString('latin1');
      },
      ratings: (chunk) => {
        chunks++;
        maxChunk = Math.max(maxChunk, chunk.length);
        if (movieIds.size === 0) {
          for (const line of moviesText.split('\n').slice(1, -1))
            movieIds.add(Number(line.split('\t', 1)[0]));
        }
        // Count lines without keeping the file: carry the unfinished last line to the next chunk.
        const lines = (pending + chunk).split('\n');
        pending = lines.pop() as string;
        for (const line of lines) {
          if (line.startsWith('userID')) continue;
          ratingLines++;
          const [user, movie] = line.split('\t', 2) as [string, string];
          if (user !== lastUser) {
            users++;
            lastUser = user;
            userMovies = new Set();
          }
          assert.ok(!userMovies.has(movie), `user ${user} rated ${movie} twice`);
          userMovies.add(movie);
          assert.ok(movieIds.has(Number(movie)), `movie ${movie} exists`);
        }
      },
    });
    const seconds = (performance.now() - started) / 1000;
    t.diagnostic(`hetrec-size generation and checks took ${seconds.toFixed(2)} s`);
    assert.equal(pending, '', 'file ends with a newline');
    assert.equal(movieIds.size, 10_197);
    assert.equal(moviesText.split('\n').length - 2, 10_197);
    assert.equal(ratingLines, 855_598);
    assert.equal(users, 2_113);
    assert.equal(summary.ratings, 855_598);
    assert.ok(summary.ratingsPerUser.min >= 20, 'hetrec-size users have at least 20 ratings, as in hetrec');
    assert.ok(chunks > 300 && maxChunk < 70_000, `${chunks} chunks, largest ${maxChunk} characters`);
    assert.ok(seconds < 30, `took ${seconds} s`);
  });

  describe('sample data: genres', () => {
    it('writes movie_genres.dat with one or two genres a movie that follow the taste groups', async () => {
      const options = { users: 600, items: 3000, ratings: 50_000, seed: 42 };
      const ratings: string[] = [];
      const genres: Buffer[] = [];
      const summary = await generateSampleData(options, {
        ratings: (chunk) => {
          ratings.push(chunk);
        },
        movies: () => undefined,
        genres: (chunk) => {
          genres.push(chunk);
        },
      });
      const text = Buffer.concat(genres).toString('latin1');
      assert.equal(summary.genresBytes, Buffer.concat(genres).length);
      const lines = text.trimEnd().split('\n');
      assert.equal(lines[0], 'movieID\tgenre');
      const byMovie = new Map<string, string[]>();
      for (const line of lines.slice(1)) {
        const [movie, genre] = line.split('\t') as [string, string];
        assert.ok((GENRES as readonly string[]).includes(genre), genre);
        byMovie.set(movie, [...(byMovie.get(movie) ?? []), genre]);
      }
      assert.equal(byMovie.size, options.items, 'every movie has a genre');
      assert.ok([...byMovie.values()].every((g) => g.length <= 2 && new Set(g).size === g.length));
      // Taste: a user's favourite genre covers far more of their ratings than it does of the catalogue.
      const perUser = new Map<string, Map<string, number>>();
      for (const line of ratings.join('').trimEnd().split('\n').slice(1)) {
        const [user, movie] = line.split('\t') as [string, string];
        const counts = perUser.get(user) ?? new Map<string, number>();
        for (const genre of byMovie.get(movie) ?? []) counts.set(genre, (counts.get(genre) ?? 0) + 1);
        perUser.set(user, counts);
      }
      const catalogueShare = new Map<string, number>();
      for (const g of byMovie.values())
        for (const genre of g)
          catalogueShare.set(genre, (catalogueShare.get(genre) ?? 0) + 1 / options.items);
      let lift = 0;
      for (const counts of perUser.values()) {
        const total = [...counts.values()].reduce((a, b) => a + b, 0);
        const [favourite, n] = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]!;
        lift += n / total / catalogueShare.get(favourite)!;
      }
      assert.ok(lift / perUser.size > 2, `favourite genre lift ${(lift / perUser.size).toFixed(2)}`);
    });
  });
});
