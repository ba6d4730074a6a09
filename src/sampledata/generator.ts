/**
 * Deterministic synthetic MovieLens data in the hetrec2011-movielens-2k layout: the engine behind
 * `mlpipe` sample data. It owns the generation model and the two file formats; it does no I/O of its
 * own and writes only through the sinks it is handed, in ~64 KB chunks, so the full-size data set
 * (23 MB of ratings) streams without being held in memory.
 *
 * Files produced
 * - `user_ratedmovies-timestamps.dat` (ASCII, LF): header `userID\tmovieID\trating\ttimestamp`, one
 *   line per rating, rating in half stars written as hetrec does (`1`, `3.5`, `5`), timestamp in
 *   milliseconds since the epoch (whole seconds, like hetrec). Sorted by userID, then timestamp
 *   (hetrec sorts by userID then movieID; time order makes temporal splits easy to eyeball).
 * - `movies.dat` (ISO-8859-1, LF): hetrec's 21 tab-separated columns, `\N` for missing values,
 *   invented titles that contain accented Latin-1 letters, so reading it as UTF-8 shows up.
 *
 * Generation model (all randomness from a seeded xoshiro128**; same options => same bytes)
 * - Items: ~55% are back catalogue (1920-1996; age before 1997 exponential, mean 12 years), the
 *   rest are released uniformly from 1997 to late 2008; the year column is the release year. IDs
 *   grow roughly with release date, with random gaps (hetrec's ids are sparse too).
 * - Popularity: Zipf-like weights, (3 / (rank + 3))^1.25 over a random ranking: a long tail.
 * - Taste: K = 20 latent clusters ("genres"; fewer for catalogues under 500 movies) of unequal size.
 *   Every movie has a primary cluster, 35% also a weaker secondary one; movie_genres.dat names
 *   them as hetrec genres (cluster k is GENRES[k]), so item metadata carries the taste structure. Every user concentrates on
 *   1-3 clusters with random weights; heavy users get one more cluster per doubling of activity
 *   above the median. 3-15% of a user's picks (per user) ignore taste and follow global popularity.
 * - Activity: ratings per user are a floor (5-20; 20 at hetrec size) plus a lognormal share
 *   (sigma 1.1), capped at half the catalogue (or all of it if the requested density needs it) and
 *   rounded so the total is exact.
 * - Time: ratings fall between 1997-09 and 2009-01. Each user is active over a lognormal span and
 *   rates in sessions, a large first one (like MovieLens onboarding) and smaller later ones.
 * - Choice: for each rating time, pick a cluster from the user's taste (or the whole catalogue),
 *   then a movie from it that is already released, in proportion to popularity, with movies
 *   released in the previous 18 months weighted 4-13x (per user). Availability plus this boost make
 *   a user's later ratings drift towards newer movies, so a temporal holdout is meaningful.
 *   Repeats are redrawn (nobody rates a movie twice); a heavy user who has exhausted their
 *   clusters falls back to popularity over their unseen released movies.
 * - Rating: 2.8 + user bias + movie quality + 1.5 x taste affinity (0..1: the user's weight on
 *   the movie's clusters relative to their favourite) + per-user noise, clipped to 0.5..5 and
 *   rounded to whole stars before 2003-02 and, for the 85% of users who use them, sometimes to
 *   half stars afterwards (MovieLens moved to a half-star scale then). Mean is about 3.4-3.6.
 * A personalised model therefore beats popularity on a per-user temporal holdout (item-kNN ~1.6x
 * popularity's precision@10 on the small preset; see test/unit/sampledata.test.ts).
 * Output is byte-identical for the same options on the same Node.js major (V8's Math functions).
 */
import { SampleDataError } from './errors.js';
import { MovieLineWriter } from './movies.js';
import { Rng } from './prng.js';

export { MOVIES_COLUMNS } from './movies.js';

export interface SampleDataOptions {
  /** Number of users (distinct userIDs in the ratings file). */
  users: number;
  /** Number of movies (lines in movies.dat, excluding the header). */
  items: number;
  /** Exact number of rating lines (excluding the header). */
  ratings: number;
  /** Any non-negative safe integer. */
  seed: number;
}

/** The size of hetrec2011-movielens-2k itself. */
export const HETREC_DEFAULTS: Readonly<SampleDataOptions> = Object.freeze({
  users: 2113,
  items: 10197,
  ratings: 855598,
  seed: 42,
});

/** About 1/17 of hetrec: quick to generate, train and test against. */
export const SMALL_PRESET: Readonly<SampleDataOptions> = Object.freeze({
  users: 600,
  items: 3000,
  ratings: 50000,
  seed: 42,
});

export const SAMPLE_DATA_PRESETS = Object.freeze({ hetrec: HETREC_DEFAULTS, small: SMALL_PRESET });
export type SampleDataPreset = keyof typeof SAMPLE_DATA_PRESETS;

export const RATINGS_FILE_NAME = 'user_ratedmovies-timestamps.dat';
export const MOVIES_FILE_NAME = 'movies.dat';
export const GENRES_FILE_NAME = 'movie_genres.dat';

/**
 * hetrec's genres, most common first. A taste cluster is a genre: cluster k (clusters are sized in
 * decreasing order) is named GENRES[k], so a movie's genres are its primary and secondary clusters
 * and item metadata tells a model something about taste.
 */
export const GENRES = [
  'Drama',
  'Comedy',
  'Thriller',
  'Romance',
  'Action',
  'Crime',
  'Adventure',
  'Horror',
  'Sci-Fi',
  'Fantasy',
  'Children',
  'Mystery',
  'War',
  'Documentary',
  'Animation',
  'Musical',
  'Western',
  'Film-Noir',
  'IMAX',
  'Short',
] as const;
export const RATINGS_COLUMNS = ['userID', 'movieID', 'rating', 'timestamp'] as const;

/** Every user gets at least this many ratings (more at larger sizes, up to 20 as in hetrec). */
export const MIN_RATINGS_PER_USER = 5;

/** Upper bounds that keep memory and run time sane; hetrec size is far below them. */
export const SAMPLE_DATA_LIMITS = Object.freeze({ users: 5_000_000, items: 5_000_000, ratings: 200_000_000 });

/** Ratings as hetrec writes them, indexed by half-star count (1 = 0.5 ... 10 = 5). */
const RATING_TEXT = ['0', '0.5', '1', '1.5', '2', '2.5', '3', '3.5', '4', '4.5', '5'] as const;

export interface SampleDataSinks {
  /** Receives the ratings file as ASCII text chunks (header first). */
  ratings(chunk: string): void | Promise<void>;
  /** Receives movies.dat as ISO-8859-1 bytes (header first). Called before any ratings chunk. */
  movies(chunk: Buffer): void | Promise<void>;
  /** Receives movie_genres.dat (`movieID genre`, TAB, header first), after movies.dat. */
  genres?(chunk: Buffer): void | Promise<void>;
}

export interface SampleDataSettings {
  /** Approximate chunk size in characters (= bytes; both files are single-byte). Default 65536. */
  chunkSize?: number;
  /** Called after each ratings chunk is accepted by its sink. */
  onProgress?: (ratingsWritten: number, ratingsTotal: number) => void;
}

export interface SampleDataSummary {
  options: SampleDataOptions;
  users: number;
  items: number;
  ratings: number;
  /** Movies with at least one rating. */
  itemsRated: number;
  minTimestampMs: number;
  maxTimestampMs: number;
  /** Count per rating value, from 0.5 to 5 in half-star steps (all ten values, zeros included). */
  ratingCounts: { rating: number; count: number }[];
  meanRating: number;
  ratingsPerUser: { min: number; median: number; max: number };
  ratingsBytes: number;
  moviesBytes: number;
  /** Bytes of movie_genres.dat (0 when no genres sink was given). */
  genresBytes?: number;
}

// ---- Model constants (seconds since the epoch; hetrec itself stores ms of whole seconds) ----

const DAY = 86_400;
const YEAR = 365.25 * DAY;
const RATING_WINDOW_START = Date.UTC(1997, 8, 19) / 1000;
const RATING_WINDOW_END = Date.UTC(2009, 0, 5) / 1000;
/** New releases come out from 1997 until shortly before the last rating, so all can be rated. */
const RELEASE_WINDOW_START = Date.UTC(1997, 0, 1) / 1000;
const RELEASE_WINDOW_END = RATING_WINDOW_END - 60 * DAY;
const BACK_CATALOGUE_SHARE = 0.55;
const OLDEST_YEAR = 1920;
const BACK_CATALOGUE_MEAN_AGE = 12;
const HALF_STARS_FROM = Date.UTC(2003, 1, 12) / 1000;

const MAX_CLUSTERS = 20;
const ZIPF_EXPONENT = 1.25;
const ZIPF_OFFSET = 3;
/** Integer popularity weights keep the Fenwick-tree fallback exact (sums stay far below 2^53). */
const WEIGHT_SCALE = 2 ** 24;
const SECONDARY_CLUSTER_SHARE = 0.35;
const SECONDARY_CLUSTER_WEIGHT = 0.35;

const ACTIVITY_SIGMA = 1.1;
const RECENT_WINDOW = 1.5 * YEAR;
const SESSION_LENGTH = 3 * 3600;
/** Taste-driven redraws before falling back to exact sampling over the user's unseen items. */
const MAX_TRIES = 30;
const MAX_TRIES_AFTER_FALLBACK = 6;

const RATING_BASE = 2.8;
const AFFINITY_GAIN = 1.5;

const DEFAULT_CHUNK_SIZE = 65_536;

// Independent random streams per stage (see Rng).
const STREAM_ITEMS = 1;
const STREAM_USERS = 2;
const STREAM_RATINGS = 3;
const STREAM_MOVIE_TEXT = 4;

function invalid(option: keyof SampleDataOptions, message: string): never {
  throw new SampleDataError(option, `Invalid sample data option "${option}": ${message}`);
}

/**
 * Throws a SampleDataError naming the offending option when the options cannot produce a
 * valid data set: non-integers, out-of-range sizes, or a rating count that cannot be spread over
 * the users (at least MIN_RATINGS_PER_USER each, no user rating a movie twice).
 */
export function validateSampleDataOptions(options: SampleDataOptions): void {
  for (const key of ['users', 'items', 'ratings', 'seed'] as const) {
    const v: unknown = options[key];
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) {
      invalid(key, `must be a whole number, got ${String(v)}`);
    }
  }
  const { users, items, ratings, seed } = options;
  if (seed < 0) invalid('seed', `must be zero or positive, got ${seed}`);
  if (users < 1) invalid('users', `must be at least 1, got ${users}`);
  if (users > SAMPLE_DATA_LIMITS.users) invalid('users', `must be at most ${SAMPLE_DATA_LIMITS.users}`);
  if (items < MIN_RATINGS_PER_USER) {
    invalid('items', `must be at least ${MIN_RATINGS_PER_USER} (each user rates that many), got ${items}`);
  }
  if (items > SAMPLE_DATA_LIMITS.items) invalid('items', `must be at most ${SAMPLE_DATA_LIMITS.items}`);
  if (ratings > SAMPLE_DATA_LIMITS.ratings) {
    invalid('ratings', `must be at most ${SAMPLE_DATA_LIMITS.ratings}, got ${ratings}`);
  }
  if (ratings < users * MIN_RATINGS_PER_USER) {
    invalid(
      'ratings',
      `${ratings} is too few for ${users} users: every user needs at least ${MIN_RATINGS_PER_USER}, ` +
        `so ratings must be at least ${users * MIN_RATINGS_PER_USER}`,
    );
  }
  if (ratings > users * items) {
    invalid(
      'ratings',
      `${ratings} is more than ${users} users x ${items} movies = ${users * items}; ` +
        'nobody rates the same movie twice, so raise users or items',
    );
  }
}

// ---- Items ----

/** One sampling list: items sorted by release time, with exclusive cumulative weights. */
interface PickList {
  items: Int32Array;
  release: Float64Array;
  /** cum[j] = total weight of items[0..j); length items.length + 1. */
  cum: Float64Array;
}

interface ItemModel {
  count: number;
  ids: Int32Array;
  idText: string[];
  release: Float64Array;
  year: Int32Array;
  weight: Float64Array;
  /** Popularity rank mapped to [0, 1], 1 = most popular; for movies.dat figures. */
  popularity: Float64Array;
  quality: Float64Array;
  cluster: Int32Array;
  /** Secondary cluster or -1. */
  cluster2: Int32Array;
  clusters: number;
  clusterWeight: Float64Array;
  /** lists[k] for cluster k; lists[clusters] holds every item. */
  lists: PickList[];
  /** Item indices by release time, and each item's position in that order. */
  byRelease: Int32Array;
  releaseSorted: Float64Array;
  positionInRelease: Int32Array;
}

function argsort(n: number, key: Float64Array): Int32Array {
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  // Ties broken by index so the order never depends on the sort algorithm.
  order.sort((a, b) => (key[a] as number) - (key[b] as number) || a - b);
  return order;
}

function buildItems(items: number, seed: number): ItemModel {
  const rng = new Rng(seed, STREAM_ITEMS);

  const rawRelease = new Float64Array(items);
  const idKey = new Float64Array(items);
  for (let i = 0; i < items; i++) {
    let t: number;
    if (rng.next() < BACK_CATALOGUE_SHARE) {
      // Film age before 1997: exponential (mean 12 years), redrawn past OLDEST_YEAR.
      let age: number;
      do age = BACK_CATALOGUE_MEAN_AGE * rng.exponential();
      while (age >= 1997 - OLDEST_YEAR);
      const year = 1996 - Math.floor(age);
      const from = Date.UTC(year, 0, 1) / 1000;
      t = from + rng.int(Date.UTC(year + 1, 0, 1) / 1000 - from);
    } else {
      t = RELEASE_WINDOW_START + rng.int(RELEASE_WINDOW_END - RELEASE_WINDOW_START);
    }
    rawRelease[i] = t;
    // MovieLens ids grow roughly with release date; old films were also added late.
    idKey[i] = t + 4 * YEAR * rng.normal();
  }
  const idOrder = argsort(items, idKey);
  const release = new Float64Array(items);
  const year = new Int32Array(items);
  const ids = new Int32Array(items);
  const idText: string[] = new Array<string>(items);
  let id = 0;
  for (let i = 0; i < items; i++) {
    const t = rawRelease[idOrder[i] as number] as number;
    release[i] = t;
    year[i] = new Date(t * 1000).getUTCFullYear();
    // hetrec ids run to ~65k for ~10k movies.
    id += 1 + Math.floor(rng.exponential() * 5.4);
    ids[i] = id;
    idText[i] = String(id);
  }

  const rank = new Int32Array(items);
  for (let i = 0; i < items; i++) rank[i] = i;
  rng.shuffle(rank);
  const weight = new Float64Array(items);
  const popularity = new Float64Array(items);
  const quality = new Float64Array(items);
  const logItems = Math.log(items + 1);
  for (let i = 0; i < items; i++) {
    const r = rank[i] as number;
    weight[i] = Math.max(
      1,
      Math.round(WEIGHT_SCALE * Math.pow(ZIPF_OFFSET / (r + ZIPF_OFFSET), ZIPF_EXPONENT)),
    );
    popularity[i] = 1 - Math.log(r + 1) / logItems;
    // Popular films are a little better on average, as in the real data.
    quality[i] = 0.45 * rng.normal() + 0.15 * ((popularity[i] as number) - 0.5);
  }

  const clusters = Math.max(1, Math.min(MAX_CLUSTERS, Math.floor(items / 25)));
  const clusterWeight = new Float64Array(clusters);
  let totalClusterWeight = 0;
  for (let k = 0; k < clusters; k++) {
    // Unequal genre sizes: a "Drama" several times the size of a "Western".
    clusterWeight[k] = 1 / Math.pow(k + 1.5, 0.8);
    totalClusterWeight += clusterWeight[k] as number;
  }
  const cluster = new Int32Array(items);
  const cluster2 = new Int32Array(items);
  for (let i = 0; i < items; i++) {
    const c = pickWeighted(rng, clusterWeight, totalClusterWeight);
    cluster[i] = c;
    let c2 = -1;
    if (clusters > 1 && rng.next() < SECONDARY_CLUSTER_SHARE) {
      do c2 = pickWeighted(rng, clusterWeight, totalClusterWeight);
      while (c2 === c);
    }
    cluster2[i] = c2;
  }

  const byRelease = argsort(items, release);
  const releaseSorted = new Float64Array(items);
  const positionInRelease = new Int32Array(items);
  for (let p = 0; p < items; p++) {
    const i = byRelease[p] as number;
    releaseSorted[p] = release[i] as number;
    positionInRelease[i] = p;
  }

  // Build the per-cluster lists in release order, so "released by time t" is always a prefix.
  const sizes = new Int32Array(clusters + 1);
  for (let i = 0; i < items; i++) {
    const c = cluster[i] as number;
    sizes[c] = (sizes[c] as number) + 1;
    const c2 = cluster2[i] as number;
    if (c2 >= 0) sizes[c2] = (sizes[c2] as number) + 1;
  }
  sizes[clusters] = items;
  const lists: PickList[] = [];
  for (let k = 0; k <= clusters; k++) {
    const n = sizes[k] as number;
    lists.push({ items: new Int32Array(n), release: new Float64Array(n), cum: new Float64Array(n + 1) });
  }
  const fill = new Int32Array(clusters + 1);
  const append = (k: number, item: number, w: number): void => {
    const list = lists[k] as PickList;
    const j = fill[k] as number;
    list.items[j] = item;
    list.release[j] = release[item] as number;
    list.cum[j + 1] = (list.cum[j] as number) + w;
    fill[k] = j + 1;
  };
  for (let p = 0; p < items; p++) {
    const i = byRelease[p] as number;
    const w = weight[i] as number;
    append(cluster[i] as number, i, w);
    const c2 = cluster2[i] as number;
    if (c2 >= 0) append(c2, i, Math.max(1, Math.round(w * SECONDARY_CLUSTER_WEIGHT)));
    append(clusters, i, w);
  }

  return {
    count: items,
    ids,
    idText,
    release,
    year,
    weight,
    popularity,
    quality,
    cluster,
    cluster2,
    clusters,
    clusterWeight,
    lists,
    byRelease,
    releaseSorted,
    positionInRelease,
  };
}

/** Index drawn in proportion to `weights` (zero weights are never drawn, even with rounding). */
function pickWeighted(rng: Rng, weights: Float64Array, total: number): number {
  let r = rng.next() * total;
  let lastPositive = -1;
  for (let k = 0; k < weights.length; k++) {
    const w = weights[k] as number;
    if (w <= 0) continue;
    r -= w;
    if (r < 0) return k;
    lastPositive = k;
  }
  return lastPositive;
}

// ---- Users ----

interface UserModel {
  count: number;
  ids: Int32Array;
  ratings: Int32Array;
  /** Row-major users x clusters taste weights (each row sums to 1). */
  taste: Float64Array;
  /** Row-major cumulative taste, for picking a cluster. */
  tasteCum: Float64Array;
  tasteMax: Float64Array;
  /** Probability that a pick ignores taste. */
  explore: Float64Array;
  /** Extra weight on items released in the last RECENT_WINDOW (1 + boost times as likely). */
  recencyBoost: Float64Array;
  bias: Float64Array;
  noise: Float64Array;
  /** Probability of using a half star where half stars exist. */
  halfStars: Float64Array;
  start: Float64Array;
  end: Float64Array;
  minRatings: number;
}

/**
 * Splits `total` ratings over users: a floor each, the rest in proportion to lognormal activity,
 * never more than `cap` per user (water-filling), rounded by largest remainder so the sum is exact.
 */
function allocateRatings(rng: Rng, users: number, total: number, floor: number, cap: number): Int32Array {
  const activity = new Float64Array(users);
  for (let u = 0; u < users; u++) activity[u] = Math.exp(ACTIVITY_SIGMA * rng.normal());
  const share = new Float64Array(users);
  const capped = new Uint8Array(users);
  const capExtra = cap - floor;
  let remaining = total - users * floor;
  for (;;) {
    let sum = 0;
    for (let u = 0; u < users; u++) if (!capped[u]) sum += activity[u] as number;
    let changed = false;
    for (let u = 0; u < users; u++) {
      if (capped[u]) continue;
      const s = sum > 0 ? (remaining * (activity[u] as number)) / sum : 0;
      if (s >= capExtra) {
        capped[u] = 1;
        share[u] = capExtra;
        remaining -= capExtra;
        changed = true;
      } else {
        share[u] = s;
      }
    }
    if (!changed) break;
  }
  const counts = new Int32Array(users);
  let assigned = 0;
  for (let u = 0; u < users; u++) {
    counts[u] = floor + Math.floor(share[u] as number);
    assigned += counts[u] as number;
  }
  // Largest remainder; repeated passes only matter if float error left more than one per user.
  const byRemainder = argsort(
    users,
    share.map((s) => -(s - Math.floor(s))),
  );
  while (assigned !== total) {
    const step = assigned < total ? 1 : -1;
    let moved = false;
    for (let j = 0; j < users && assigned !== total; j++) {
      const u = byRemainder[step > 0 ? j : users - 1 - j] as number;
      const next = (counts[u] as number) + step;
      if (next < floor || next > cap) continue;
      counts[u] = next;
      assigned += step;
      moved = true;
    }
    if (!moved)
      throw new Error('sample data: cannot allocate ratings (validated options should prevent this)');
  }
  return counts;
}

/** The first user ids, as in hetrec's ratings file. */
const FIRST_USER_IDS = [75, 78] as const;

function buildUsers(options: SampleDataOptions, items: ItemModel): UserModel {
  const { users, ratings, seed } = options;
  const rng = new Rng(seed, STREAM_USERS);
  const K = items.clusters;

  const ids = new Int32Array(users);
  let id = 0;
  for (let u = 0; u < users; u++) {
    // hetrec user ids run to ~71k for ~2k users. Its first two users are 75 and 78, the ids the
    // README's examples use (`show-recs --user 75`), so the sample data has them too.
    const gap = 1 + Math.floor(rng.exponential() * 33);
    id = u < FIRST_USER_IDS.length ? (FIRST_USER_IDS[u] as number) : id + gap;
    ids[u] = id;
  }

  const minRatings = Math.min(
    items.count,
    Math.max(MIN_RATINGS_PER_USER, Math.min(20, Math.floor(ratings / users / 10))),
  );
  // Half the catalogue is plenty for the heaviest user, unless the requested density needs more.
  const maxRatings = Math.min(
    items.count,
    Math.max(Math.ceil(items.count / 2), Math.ceil((2 * ratings) / users)),
  );
  const counts = allocateRatings(rng, users, ratings, minRatings, maxRatings);
  const sortedCounts = Int32Array.from(counts).sort();
  const medianCount = Math.max(1, sortedCounts[users >> 1] as number);

  const taste = new Float64Array(users * K);
  const tasteCum = new Float64Array(users * K);
  const tasteMax = new Float64Array(users);
  const explore = new Float64Array(users);
  const recencyBoost = new Float64Array(users);
  const bias = new Float64Array(users);
  const noise = new Float64Array(users);
  const halfStars = new Float64Array(users);
  const start = new Float64Array(users);
  const end = new Float64Array(users);
  const available = new Float64Array(K);

  for (let u = 0; u < users; u++) {
    const p = rng.next();
    // Heavy users have broader taste: one more cluster per doubling above the median activity.
    const broader = Math.max(0, Math.floor(Math.log2((counts[u] as number) / medianCount)));
    const focus = Math.min(K, (p < 0.3 ? 1 : p < 0.75 ? 2 : 3) + broader);
    available.set(items.clusterWeight);
    let availableTotal = 0;
    for (let k = 0; k < K; k++) availableTotal += available[k] as number;
    let weightTotal = 0;
    const row = u * K;
    for (let f = 0; f < focus; f++) {
      const k = pickWeighted(rng, available, availableTotal);
      availableTotal -= available[k] as number;
      available[k] = 0;
      const w = 0.25 + rng.exponential();
      taste[row + k] = w;
      weightTotal += w;
    }
    let cum = 0;
    let max = 0;
    for (let k = 0; k < K; k++) {
      const w = (taste[row + k] as number) / weightTotal;
      taste[row + k] = w;
      cum += w;
      tasteCum[row + k] = cum;
      if (w > max) max = w;
    }
    tasteMax[u] = max;
    explore[u] = rng.range(0.03, 0.15);
    recencyBoost[u] = rng.range(3, 12);
    bias[u] = 0.3 * rng.normal();
    noise[u] = rng.range(0.35, 0.65);
    halfStars[u] = rng.next() < 0.15 ? 0 : rng.range(0.35, 0.85);

    const s = RATING_WINDOW_START + rng.int(RATING_WINDOW_END - 14 * DAY - RATING_WINDOW_START);
    // Heavier users stay around longer.
    const span =
      120 * DAY * Math.exp(1.6 * rng.normal()) * Math.pow((counts[u] as number) / medianCount, 0.35);
    start[u] = s;
    end[u] = Math.min(RATING_WINDOW_END, s + Math.max(span, 3600));
  }

  return {
    count: users,
    ids,
    ratings: counts,
    taste,
    tasteCum,
    tasteMax,
    explore,
    recencyBoost,
    bias,
    noise,
    halfStars,
    start,
    end,
    minRatings,
  };
}

// ---- Ratings ----

/** First index in sorted `a[lo..hi)` whose value is > x (upper bound). */
function upperBound(a: Float64Array, x: number, lo: number, hi: number): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((a[mid] as number) <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index in sorted `a[lo..hi)` whose value is >= x (lower bound). */
function lowerBound(a: Float64Array, x: number, lo: number, hi: number): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((a[mid] as number) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Draws one user's items in time order. Taste-driven draws are redrawn on repeats; a heavy user who
 * has exhausted their favourite clusters falls back to an exact popularity-weighted draw over their
 * unseen, already-released items (a Fenwick tree over release order with zeroed seen items).
 */
class ItemChooser {
  private readonly seenBy: Int32Array;
  private readonly tree: Float64Array;
  private readonly treeTop: number;
  private treeUser = -1;

  constructor(
    private readonly items: ItemModel,
    private readonly users: UserModel,
    private readonly rng: Rng,
  ) {
    this.seenBy = new Int32Array(items.count).fill(-1);
    this.tree = new Float64Array(items.count + 1);
    let top = 1;
    while (top * 2 <= items.count) top *= 2;
    this.treeTop = top;
  }

  /** Picks an unseen item released by `t` for user `u`, given the user's items so far. */
  choose(u: number, t: number, history: Int32Array, historyLength: number): number {
    const { items, users, rng } = this;
    const K = items.clusters;
    const tries = this.treeUser === u ? MAX_TRIES_AFTER_FALLBACK : MAX_TRIES;
    for (let attempt = 0; attempt < tries; attempt++) {
      let listIndex = K;
      if (rng.next() >= (users.explore[u] as number)) {
        const r = rng.next();
        const row = u * K;
        listIndex = K - 1;
        for (let k = 0; k < K - 1; k++) {
          if (r < (users.tasteCum[row + k] as number)) {
            listIndex = k;
            break;
          }
        }
      }
      const item = this.pickFrom(items.lists[listIndex] as PickList, t, users.recencyBoost[u] as number);
      if (item >= 0 && this.seenBy[item] !== u) return this.take(u, item);
    }
    if (this.treeUser !== u) this.buildTree(u, history, historyLength);
    return this.take(u, this.pickFromTree(t));
  }

  private take(u: number, item: number): number {
    this.seenBy[item] = u;
    if (this.treeUser === u) {
      // Zero the item's weight so the exact fallback never returns it again.
      const w = this.items.weight[item] as number;
      const n = this.items.count;
      for (let i = (this.items.positionInRelease[item] as number) + 1; i <= n; i += i & -i) {
        this.tree[i] = (this.tree[i] as number) - w;
      }
    }
    return item;
  }

  /**
   * Popularity-weighted pick among the list's items released by `t`, with items released in the
   * last RECENT_WINDOW weighted `1 + boost` times: one draw over the combined mass.
   */
  private pickFrom(list: PickList, t: number, boost: number): number {
    const { cum } = list;
    const hi = upperBound(list.release, t, 0, list.items.length);
    if (hi === 0) return -1;
    const lo = lowerBound(list.release, t - RECENT_WINDOW, 0, hi);
    const all = cum[hi] as number;
    const recent = all - (cum[lo] as number);
    let r = this.rng.next() * (all + boost * recent);
    let from = 0;
    if (r >= all) {
      r = (cum[lo] as number) + (r - all) / boost;
      from = lo;
    }
    // Largest j in [from, hi) with cum[j] <= r; the min guards against r rounding up to cum[hi].
    const j = Math.min(hi - 1, upperBound(cum, r, from + 1, hi + 1) - 1);
    return list.items[j] as number;
  }

  private buildTree(u: number, history: Int32Array, historyLength: number): void {
    const { tree } = this;
    const { weight, byRelease, count, positionInRelease } = this.items;
    tree[0] = 0;
    for (let p = 0; p < count; p++) tree[p + 1] = weight[byRelease[p] as number] as number;
    for (let h = 0; h < historyLength; h++) tree[(positionInRelease[history[h] as number] as number) + 1] = 0;
    for (let i = 1; i <= count; i++) {
      const parent = i + (i & -i);
      if (parent <= count) tree[parent] = (tree[parent] as number) + (tree[i] as number);
    }
    this.treeUser = u;
  }

  private pickFromTree(t: number): number {
    const { tree, treeTop } = this;
    const { count, releaseSorted, byRelease } = this.items;
    const available = upperBound(releaseSorted, t, 0, count);
    let total = 0;
    for (let i = available; i > 0; i -= i & -i) total += tree[i] as number;
    // Callers guarantee an unseen released item exists (rating times are clamped to allow it).
    let r = Math.floor(this.rng.next() * total);
    let pos = 0;
    for (let step = treeTop; step > 0; step >>= 1) {
      const next = pos + step;
      if (next <= count && (tree[next] as number) <= r) {
        pos = next;
        r -= tree[next] as number;
      }
    }
    return byRelease[pos] as number;
  }
}

/** Writes chunks of roughly `size` characters to an async-or-sync sink. */
class ChunkWriter<T> {
  private buffer = '';
  bytes = 0;

  constructor(
    private readonly sink: (chunk: T) => void | Promise<void>,
    private readonly encode: (text: string) => T,
    private readonly size: number,
  ) {}

  /** Appends text; returns true when the buffer is full and `flush` should be awaited. */
  push(text: string): boolean {
    this.buffer += text;
    return this.buffer.length >= this.size;
  }

  async flush(): Promise<void> {
    if (this.buffer === '') return;
    const text = this.buffer;
    this.buffer = '';
    this.bytes += text.length;
    await this.sink(this.encode(text));
  }
}

async function writeMovies(
  items: ItemModel,
  seed: number,
  sink: SampleDataSinks['movies'],
  chunkSize: number,
): Promise<number> {
  const writer = new ChunkWriter(sink, (text) => Buffer.from(text, 'latin1'), chunkSize);
  const lines = new MovieLineWriter(new Rng(seed, STREAM_MOVIE_TEXT));
  writer.push(lines.header());
  for (let i = 0; i < items.count; i++) {
    const line = lines.line({
      id: items.ids[i] as number,
      year: items.year[i] as number,
      quality: items.quality[i] as number,
      popularity: items.popularity[i] as number,
    });
    if (writer.push(line)) await writer.flush();
  }
  await writer.flush();
  return writer.bytes;
}

/** movie_genres.dat as hetrec writes it: one `movieID genre` line per genre of a movie, by movie. */
async function writeGenres(
  items: ItemModel,
  sink: NonNullable<SampleDataSinks['genres']>,
  chunkSize: number,
): Promise<number> {
  const writer = new ChunkWriter(sink, (text) => Buffer.from(text, 'latin1'), chunkSize);
  writer.push('movieID\tgenre\n');
  for (let i = 0; i < items.count; i++) {
    const id = items.ids[i] as number;
    for (const c of [items.cluster[i] as number, items.cluster2[i] as number])
      if (c >= 0) if (writer.push(`${id}\t${GENRES[c % GENRES.length]}\n`)) await writer.flush();
  }
  await writer.flush();
  return writer.bytes;
}

/**
 * Generates both files through `sinks` (movies.dat first, then the ratings) and resolves with a
 * summary once every chunk has been accepted. Validates `options` first (see
 * validateSampleDataOptions). Memory use is proportional to users + items, not to ratings.
 */
export async function generateSampleData(
  options: SampleDataOptions,
  sinks: SampleDataSinks,
  settings: SampleDataSettings = {},
): Promise<SampleDataSummary> {
  validateSampleDataOptions(options);
  const chunkSize = Math.max(1024, settings.chunkSize ?? DEFAULT_CHUNK_SIZE);
  const opts: SampleDataOptions = {
    users: options.users,
    items: options.items,
    ratings: options.ratings,
    seed: options.seed,
  };
  const items = buildItems(opts.items, opts.seed);
  const users = buildUsers(opts, items);

  const moviesBytes = await writeMovies(items, opts.seed, sinks.movies, chunkSize);
  // No random draws: the genres follow the clusters, so the other files stay byte-identical.
  const genresBytes = sinks.genres === undefined ? 0 : await writeGenres(items, sinks.genres, chunkSize);

  const rng = new Rng(opts.seed, STREAM_RATINGS);
  const chooser = new ItemChooser(items, users, rng);
  const writer = new ChunkWriter(sinks.ratings, (text) => text, chunkSize);
  writer.push(RATINGS_COLUMNS.join('\t') + '\n');

  let maxCount = 0;
  for (let u = 0; u < users.count; u++) maxCount = Math.max(maxCount, users.ratings[u] as number);
  const times = new Float64Array(maxCount);
  const sessions = new Float64Array(maxCount);
  const history = new Int32Array(maxCount);
  const ratedCount = new Int32Array(items.count);
  const histogram = new Float64Array(11);
  let minTs = Infinity;
  let maxTs = -Infinity;
  let written = 0;
  const K = items.clusters;

  for (let u = 0; u < users.count; u++) {
    const n = users.ratings[u] as number;
    const start = users.start[u] as number;
    const end = users.end[u] as number;

    // Sessions: one large first session (onboarding), then smaller ones spread over the span.
    const first = rng.range(0.25, 0.8);
    const sessionCount = Math.min(n, 1 + Math.floor((n * (1 - first)) / rng.range(4, 30)));
    sessions[0] = start;
    for (let s = 1; s < sessionCount; s++) sessions[s] = start + rng.next() * (end - start);
    for (let j = 0; j < n; j++) {
      const s = sessionCount > 1 && rng.next() >= first ? 1 + rng.int(sessionCount - 1) : 0;
      times[j] = Math.min(RATING_WINDOW_END, (sessions[s] as number) + rng.next() * SESSION_LENGTH);
    }
    const userTimes = times.subarray(0, n).sort();
    for (let j = 0; j < n; j++) {
      // The j-th rating needs j + 1 released items to choose from; both sequences are sorted, so
      // taking the maximum keeps the times sorted.
      userTimes[j] = Math.max(Math.floor(userTimes[j] as number), items.releaseSorted[j] as number);
    }

    const uid = String(users.ids[u]);
    const row = u * K;
    const tasteMax = users.tasteMax[u] as number;
    const bias = users.bias[u] as number;
    const noise = users.noise[u] as number;
    const halfStars = users.halfStars[u] as number;
    for (let j = 0; j < n; j++) {
      const t = userTimes[j] as number;
      const item = chooser.choose(u, t, history, j);
      history[j] = item;
      ratedCount[item] = (ratedCount[item] as number) + 1;

      const c2 = items.cluster2[item] as number;
      const affinity =
        (users.taste[row + (items.cluster[item] as number)] as number) +
        (c2 >= 0 ? 0.5 * (users.taste[row + c2] as number) : 0);
      const score =
        RATING_BASE +
        bias +
        (items.quality[item] as number) +
        AFFINITY_GAIN * Math.min(1, affinity / tasteMax) +
        noise * rng.normal();
      let halves: number;
      if (t >= HALF_STARS_FROM && rng.next() < halfStars) {
        halves = Math.min(10, Math.max(1, Math.round(score * 2)));
      } else {
        halves = 2 * Math.min(5, Math.max(1, Math.round(score)));
      }
      histogram[halves] = (histogram[halves] as number) + 1;
      if (t < minTs) minTs = t;
      if (t > maxTs) maxTs = t;
      const full = writer.push(
        uid + '\t' + (items.idText[item] as string) + '\t' + RATING_TEXT[halves] + '\t' + t + '000\n',
      );
      written++;
      if (full) {
        await writer.flush();
        settings.onProgress?.(written, opts.ratings);
      }
    }
  }
  await writer.flush();
  settings.onProgress?.(written, opts.ratings);

  const ratingCounts: { rating: number; count: number }[] = [];
  let sum = 0;
  for (let h = 1; h <= 10; h++) {
    ratingCounts.push({ rating: h / 2, count: histogram[h] as number });
    sum += (h / 2) * (histogram[h] as number);
  }
  let itemsRated = 0;
  for (let i = 0; i < items.count; i++) if ((ratedCount[i] as number) > 0) itemsRated++;
  const sortedCounts = Int32Array.from(users.ratings).sort();

  return {
    options: opts,
    users: users.count,
    items: items.count,
    ratings: written,
    itemsRated,
    minTimestampMs: minTs * 1000,
    maxTimestampMs: maxTs * 1000,
    ratingCounts,
    meanRating: sum / written,
    ratingsPerUser: {
      min: sortedCounts[0] as number,
      median: sortedCounts[users.count >> 1] as number,
      max: sortedCounts[users.count - 1] as number,
    },
    ratingsBytes: writer.bytes,
    moviesBytes,
    genresBytes,
  };
}
