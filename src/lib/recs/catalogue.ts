/**
 * Titles and years for item IDs, from the catalogue file in the lake's raw prefix, whichever of
 * MovieLens' layouts it is:
 * - hetrec2011 `movies.dat`: TAB-separated with a header (id, title, …, year), Latin-1, `\N` for none;
 * - ml-latest(-small) / ml-25m `movies.csv`: RFC 4180 CSV with a header (movieId, title, genres),
 *   UTF-8, the year at the end of the title: `Toy Story (1995)`;
 * - ml-100k `u.item`: `|`-separated, no header, Latin-1, id|title (year)|release date|….
 * Read with papaparse; a line that does not parse is skipped (this is display, not data).
 */
import Papa from 'papaparse';

export interface CatalogueEntry {
  title: string;
  year: number | null;
}

export type CatalogueFormat = 'hetrec-movies.dat' | 'movielens-movies.csv' | 'ml-100k-u.item';

/** The catalogue file names looked for in the raw prefix, in order of preference. */
export const CATALOGUE_FILES: readonly { name: string; format: CatalogueFormat }[] = [
  { name: 'movies.dat', format: 'hetrec-movies.dat' },
  { name: 'movies.csv', format: 'movielens-movies.csv' },
  { name: 'u.item', format: 'ml-100k-u.item' },
];

const TITLE_YEAR = /^(.*\S)\s*\((\d{4})(?:[–-]\d{0,4})?\)\s*$/;

/** `Toy Story (1995)` → title `Toy Story`, year 1995; a title without a year stays whole. */
export function splitTitleYear(text: string): CatalogueEntry {
  const m = TITLE_YEAR.exec(text.trim());
  return m ? { title: m[1]!, year: Number(m[2]) } : { title: text.trim(), year: null };
}

function yearOf(text: string | undefined): number | null {
  const m = /(\d{4})/.exec(text ?? '');
  return m ? Number(m[1]) : null;
}

export function parseCatalogue(content: Buffer, format: CatalogueFormat): Map<string, CatalogueEntry> {
  const entries = new Map<string, CatalogueEntry>();
  if (format === 'movielens-movies.csv') {
    const parsed = Papa.parse<string[]>(content.toString('utf8'), { skipEmptyLines: true });
    const header = parsed.data[0]?.map((h) => h.trim().toLowerCase()) ?? [];
    const id = header.indexOf('movieid');
    const title = header.indexOf('title');
    if (id < 0 || title < 0) return entries;
    for (const row of parsed.data.slice(1)) {
      if (row[id] === undefined || row[title] === undefined) continue;
      entries.set(row[id].trim(), splitTitleYear(row[title]));
    }
    return entries;
  }
  // Latin-1: every byte is one character, as MovieLens wrote them (é is one byte, 0xE9).
  const text = content.toString('latin1');
  if (format === 'ml-100k-u.item') {
    const parsed = Papa.parse<string[]>(text, { delimiter: '|', quoteChar: '\u0000', skipEmptyLines: true });
    for (const row of parsed.data) {
      if (row.length < 2 || row[0] === undefined || row[1] === undefined) continue;
      const entry = splitTitleYear(row[1]);
      entries.set(row[0].trim(), entry.year === null ? { ...entry, year: yearOf(row[2]) } : entry);
    }
    return entries;
  }
  const parsed = Papa.parse<string[]>(text, { delimiter: '\t', quoteChar: '\u0000', skipEmptyLines: true });
  const header = parsed.data[0]?.map((h) => h.trim().toLowerCase()) ?? [];
  const id = header.indexOf('id');
  const title = header.indexOf('title');
  const year = header.indexOf('year');
  if (id < 0 || title < 0) return entries;
  for (const row of parsed.data.slice(1)) {
    if (row[id] === undefined || row[title] === undefined) continue;
    const fromTitle = splitTitleYear(row[title]);
    const y = year >= 0 && row[year] !== '\\N' ? yearOf(row[year]) : null;
    entries.set(row[id].trim(), { title: fromTitle.title, year: y ?? fromTitle.year });
  }
  return entries;
}
