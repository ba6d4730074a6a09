/**
 * The text side of the synthetic movies.dat: invented English and Spanish titles (with Latin-1
 * accented letters, so a pipeline that reads the file as UTF-8 visibly breaks), IMDb-style ids,
 * Rotten-Tomatoes-style critic and audience figures, and the hetrec line layout. Numbers that a
 * recommender could exploit (critic scores, audience counts) are derived from the item's latent
 * quality and popularity handed in by the generator; everything else is decoration.
 *
 * Every character used here must exist in ISO-8859-1: the file is written with
 * Buffer.from(text, 'latin1'), which would silently mangle anything outside it.
 */
import type { Rng } from './prng.js';

/** hetrec's marker for a missing value. */
export const MISSING = '\\N';

/** The 21 movies.dat columns, in file order, exactly as hetrec2011-movielens-2k names them. */
export const MOVIES_COLUMNS = [
  'id',
  'title',
  'imdbID',
  'spanishTitle',
  'imdbPictureURL',
  'year',
  'rtID',
  'rtAllCriticsRating',
  'rtAllCriticsNumReviews',
  'rtAllCriticsNumFresh',
  'rtAllCriticsNumRotten',
  'rtAllCriticsScore',
  'rtTopCriticsRating',
  'rtTopCriticsNumReviews',
  'rtTopCriticsNumFresh',
  'rtTopCriticsNumRotten',
  'rtTopCriticsScore',
  'rtAudienceRating',
  'rtAudienceNumRatings',
  'rtAudienceScore',
  'rtPictureURL',
] as const;

const ADJECTIVES = [
  'Last',
  'Silent',
  'Broken',
  'Golden',
  'Hidden',
  'Midnight',
  'Crimson',
  'Lonely',
  'Wild',
  'Forgotten',
  'Electric',
  'Burning',
  'Frozen',
  'Secret',
  'Dangerous',
  'Little',
  'Endless',
  'Dark',
  'Lucky',
  'Naïve',
  'Crazy',
  'Final',
  'Perfect',
  'Savage',
  'Quiet',
  'Strange',
  'Brave',
  'Invisible',
  'Restless',
  'Sweet',
];

const NOUNS = [
  'Garden',
  'River',
  'Summer',
  'Stranger',
  'Machine',
  'Horizon',
  'Kingdom',
  'Harbor',
  'Detective',
  'Mirror',
  'Promise',
  'Journey',
  'Storm',
  'Heart',
  'Letter',
  'Island',
  'Shadow',
  'Station',
  'Witness',
  'Dragon',
  'Circus',
  'Café',
  'Fiancée',
  'Façade',
  'Soirée',
  'Rendezvous',
  'Piñata',
  'Crème Brûlée',
  'Déjà Vu',
  'Matador',
  'Orchard',
  'Frontier',
  'Lighthouse',
  'Symphony',
  'Outlaw',
  'Carnival',
  'Voyage',
  'Empire',
  'Alibi',
  'Winter',
];

const NAMES = [
  'Amélie',
  'José',
  'Zoë',
  'Chloé',
  'Renée',
  'Björn',
  'Søren',
  'Åsa',
  'Jürgen',
  'Inés',
  'Raúl',
  'Noël',
  'François',
  'Begoña',
  'Müller',
  'Harry',
  'Annie',
  'Max',
  'Lola',
  'Jack',
  'Rosa',
  'Sam',
  'Ingrid',
  'Tomás',
  'Héctor',
];

const PLACES = [
  'Montréal',
  'Zürich',
  'São Paulo',
  'Bogotá',
  'Córdoba',
  'Málaga',
  'Reykjavík',
  'Cancún',
  'Québec',
  'Göteborg',
  'Curaçao',
  'Besançon',
  'Chicago',
  'Tangier',
  'Havana',
  'Berlin',
  'Marseille',
  'Brooklyn',
  'Manila',
  'Lisbon',
];

const ROMAN = ['II', 'III', 'IV', 'V'];

const SUBTITLES = [
  'The Return',
  'A New Beginning',
  'Über Alles',
  'The Reckoning',
  'Mañana Never Dies',
  'Origins',
  'The Last Stand',
  'Señor Justice',
];

/** Spanish nouns by grammatical gender, so the article and adjective agree. */
const ES_MASCULINE = [
  'corazón',
  'camino',
  'verano',
  'tiburón',
  'jardín',
  'ladrón',
  'capitán',
  'león',
  'río',
  'espía',
  'dragón',
  'fantasma',
  'silencio',
  'invierno',
  'sueño',
  'secreto',
  'viaje',
  'señor',
];
const ES_FEMININE = [
  'canción',
  'noche',
  'ciudad',
  'estación',
  'mañana',
  'isla',
  'montaña',
  'guerra',
  'ilusión',
  'venganza',
  'pasión',
  'mentira',
  'playa',
  'tormenta',
  'misión',
  'huída',
];
/** [masculine, feminine] adjective forms. */
const ES_ADJECTIVES: readonly (readonly [string, string])[] = [
  ['perdido', 'perdida'],
  ['oscuro', 'oscura'],
  ['último', 'última'],
  ['salvaje', 'salvaje'],
  ['dorado', 'dorada'],
  ['eterno', 'eterna'],
  ['prohibido', 'prohibida'],
  ['maldito', 'maldita'],
  ['pequeño', 'pequeña'],
  ['olvidado', 'olvidada'],
  ['mágico', 'mágica'],
  ['silencioso', 'silenciosa'],
  ['fantástico', 'fantástica'],
  ['rápido', 'rápida'],
];

/** Accented Latin-1 letters folded to ASCII, for rtID slugs. */
const FOLD: Readonly<Record<string, string>> = {
  à: 'a',
  á: 'a',
  â: 'a',
  ã: 'a',
  ä: 'a',
  å: 'a',
  æ: 'ae',
  ç: 'c',
  è: 'e',
  é: 'e',
  ê: 'e',
  ë: 'e',
  ì: 'i',
  í: 'i',
  î: 'i',
  ï: 'i',
  ñ: 'n',
  ò: 'o',
  ó: 'o',
  ô: 'o',
  õ: 'o',
  ö: 'o',
  ø: 'o',
  ù: 'u',
  ú: 'u',
  û: 'u',
  ü: 'u',
  ý: 'y',
  ÿ: 'y',
  ß: 'ss',
};

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function englishTitle(rng: Rng): string {
  const p = rng.next();
  if (p < 0.22) return `The ${rng.pick(ADJECTIVES)} ${rng.pick(NOUNS)}`;
  if (p < 0.34) return `${rng.pick(NOUNS)} of the ${rng.pick(NOUNS)}`;
  if (p < 0.46) return `${rng.pick(NAMES)}'s ${rng.pick(NOUNS)}`;
  if (p < 0.56) return `A ${rng.pick(NOUNS)} in ${rng.pick(PLACES)}`;
  if (p < 0.64) return `${rng.pick(PLACES)} ${rng.pick(NOUNS)}`;
  if (p < 0.72) return `${rng.pick(ADJECTIVES)} ${rng.pick(NOUNS)} ${rng.pick(ROMAN)}`;
  if (p < 0.8) return `${rng.pick(NOUNS)}: ${rng.pick(SUBTITLES)}`;
  if (p < 0.87) return `Return to ${rng.pick(PLACES)}`;
  if (p < 0.94) return `${rng.pick(NAMES)} and ${rng.pick(NAMES)}`;
  return rng.pick(NOUNS);
}

function spanishTitle(rng: Rng, english: string): string {
  const p = rng.next();
  // hetrec keeps the original title for many films.
  if (p < 0.15) return english;
  const adj = rng.pick(ES_ADJECTIVES);
  if (p < 0.4) return `El ${rng.pick(ES_MASCULINE)} ${adj[0]}`;
  if (p < 0.65) return `La ${rng.pick(ES_FEMININE)} ${adj[1]}`;
  if (p < 0.75) return `${rng.pick(NAMES)}, el ${rng.pick(ES_MASCULINE)} de ${rng.pick(PLACES)}`;
  if (p < 0.85) return `Más allá de ${rng.pick(PLACES)}`;
  if (p < 0.93) return `Días de ${rng.pick(ES_FEMININE)}`;
  return `${capitalize(rng.pick(ES_MASCULINE))} (${english.toLowerCase()})`;
}

function slug(title: string): string {
  let out = '';
  for (const ch of title.toLowerCase()) {
    const folded = FOLD[ch] ?? ch;
    out += /^[a-z0-9]+$/.test(folded) ? folded : '_';
  }
  return out.replace(/_+/g, '_').replace(/^_|_$/g, '');
}

/** One decimal, hetrec style: whole numbers lose their ".0" (9, 8.5, 3.7). */
export function formatOneDecimal(x: number): string {
  const tenths = Math.round(x * 10);
  return tenths % 10 === 0 ? String(tenths / 10) : (tenths / 10).toFixed(1);
}

function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}

function logistic(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** What the generator knows about a movie that its text should be consistent with. */
export interface MovieFacts {
  id: number;
  year: number;
  /** Latent quality, roughly N(0, 0.5): drives critic and audience scores. */
  quality: number;
  /** Popularity in [0, 1] (1 = most popular): drives review and audience-rating counts. */
  popularity: number;
}

/**
 * Builds movies.dat lines. Stateful only to keep imdbIDs and rtIDs unique; feed it movies in file
 * order from a dedicated Rng stream and the output is deterministic.
 */
export class MovieLineWriter {
  private readonly usedImdb = new Set<number>();
  private readonly usedRt = new Set<string>();

  constructor(private readonly rng: Rng) {}

  header(): string {
    return MOVIES_COLUMNS.join('\t') + '\n';
  }

  line(m: MovieFacts): string {
    const rng = this.rng;
    const title = englishTitle(rng);
    const spanish = rng.next() < 0.02 ? MISSING : spanishTitle(rng, title);

    // IMDb numbers grew over time, so older films get smaller ids (as in the real data).
    const age = clamp((m.year - 1900) / 115, 0, 1);
    let imdb = Math.floor(age * age * 1_300_000) + rng.int(60_000) + 1;
    while (this.usedImdb.has(imdb)) imdb++;
    this.usedImdb.add(imdb);
    const imdbId = String(imdb).padStart(7, '0');
    const imdbPicture =
      rng.next() < 0.04 ? MISSING : `http://images.example.com/imdb/tt${imdbId}/poster_${rng.int(1000)}.jpg`;

    const cols: string[] = [String(m.id), title, imdbId, spanish, imdbPicture, String(m.year)];
    // Obscure and old films are the ones Rotten Tomatoes lacks.
    const rtMissing = rng.next() < 0.03 + 0.12 * (1 - m.popularity) * (m.year < 1970 ? 1.5 : 1);
    if (rtMissing) {
      for (let c = 6; c < MOVIES_COLUMNS.length; c++) cols.push(MISSING);
      return cols.join('\t') + '\n';
    }

    let rtId = slug(title) || 'untitled';
    if (rng.next() < 0.25) rtId = `${1_000_000 + rng.int(9_000_000)}-${rtId}`;
    if (this.usedRt.has(rtId)) rtId = `${rtId}_${m.year}`;
    for (let n = 2; this.usedRt.has(rtId); n++) rtId = `${rtId.replace(/-\d+$/, '')}-${n}`;
    this.usedRt.add(rtId);
    cols.push(rtId);

    // Probability that a critic likes the film: quality plus per-film noise.
    const liked = logistic(2.4 * m.quality + 0.4 + 0.5 * rng.normal());
    const reviews =
      rng.next() < 0.05 ? 0 : Math.round(Math.exp(1.6 + 3.6 * m.popularity + 0.5 * rng.normal()));
    cols.push(...criticColumns(rng, Math.min(reviews, 400), liked));
    cols.push(...criticColumns(rng, Math.round(reviews * rng.range(0.08, 0.3)), liked));

    const audienceRating = clamp(2.4 + 1.6 * logistic(1.8 * m.quality + 0.3 * rng.normal()), 1, 5);
    const audienceCount = Math.round(Math.pow(10, 1.5 + 4 * m.popularity + 0.35 * rng.normal()));
    const audienceScore = Math.round(clamp((audienceRating - 2.2) * 38 + 4 * rng.normal(), 0, 100));
    cols.push(formatOneDecimal(audienceRating), String(audienceCount), String(audienceScore));

    cols.push(
      rng.next() < 0.1
        ? 'http://images.example.com/rt/poster_default.gif'
        : `http://images.example.com/rt/${rng.int(90) + 10}/${rng.int(90) + 10}/${imdbId}_det.jpg`,
    );
    return cols.join('\t') + '\n';
  }
}

/** rating, numReviews, numFresh, numRotten, score; hetrec writes all zeros when there are no reviews. */
function criticColumns(rng: Rng, reviews: number, liked: number): string[] {
  if (reviews === 0) return ['0', '0', '0', '0', '0'];
  const fresh = Math.round(clamp(reviews * liked + Math.sqrt(reviews) * 0.5 * rng.normal(), 0, reviews));
  const score = Math.round((100 * fresh) / reviews);
  const rating = clamp(2.5 + 6 * (fresh / reviews) + 0.4 * rng.normal(), 1, 10);
  return [formatOneDecimal(rating), String(reviews), String(fresh), String(reviews - fresh), String(score)];
}
