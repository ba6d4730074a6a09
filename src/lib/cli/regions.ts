/**
 * AWS regions as the SDK knows them: the partitions list that ships inside the AWS SDK (every
 * partition's regions with their names, and the pattern of its region ids), read when a region
 * has to be checked, and the nearest known region to suggest for one that is not.
 */
import { readFileSync } from 'node:fs';
import { closest, distance } from 'fastest-levenshtein';

export interface Partition {
  id: string;
  regionRegex: string;
  regions: Record<string, { description?: string }>;
}

let cached: Partition[] | undefined;

/**
 * The partitions list of the SDK in use (`@aws-sdk/core`'s endpoint rules data). The SDK exports
 * a lookup but not the list itself, so its module is read as the JSON it is.
 */
export function awsPartitions(): Partition[] {
  if (cached !== undefined) return cached;
  const core = new URL('./', import.meta.resolve('@aws-sdk/core/package.json'));
  const file = new URL('dist-es/submodules/client/util-endpoints/lib/aws/partitions.js', core);
  const text = readFileSync(file, 'utf8');
  const json = text.slice(text.indexOf('{'), text.lastIndexOf('}') + 1);
  cached = (JSON.parse(json) as { partitions: Partition[] }).partitions;
  return cached;
}

/**
 * True for a region AWS lists, or one that fits a partition's pattern and is not a near miss of a
 * listed one: a region newer than this SDK is accepted, "eu-centrl-1" is not.
 */
export function isKnownRegion(region: string): boolean {
  const partitions = awsPartitions();
  if (partitions.some((p) => p.regions[region] !== undefined)) return true;
  if (!partitions.some((p) => new RegExp(p.regionRegex).test(region))) return false;
  const listed = partitions.flatMap((p) => Object.keys(p.regions));
  return !listed.some((id) => distance(id, region) <= 2);
}

/**
 * The region most likely meant: one whose name mentions the word given ("frankfurt" →
 * eu-central-1, "Europe (Frankfurt)"), else the id fewest edits away ("eu-centrl-1").
 */
export function nearestRegion(input: string): { region: string; description: string } | undefined {
  const regions = awsPartitions()
    .filter((p) => p.id === 'aws')
    .flatMap((p) => Object.entries(p.regions))
    .filter(([id]) => !id.startsWith('aws-'));
  const words = input
    .toLowerCase()
    .replace(/[^a-z0-9 ]+/g, ' ')
    .trim();
  if (words === '') return undefined;
  const byName = regions.find(([, r]) => (r.description ?? '').toLowerCase().includes(words));
  if (byName !== undefined) return { region: byName[0], description: byName[1].description ?? '' };
  const ids = regions.map(([id]) => id);
  const best = closest(input.toLowerCase(), ids);
  if (distance(input.toLowerCase(), best) > Math.max(3, Math.floor(best.length / 3))) return undefined;
  return { region: best, description: regions.find(([id]) => id === best)?.[1].description ?? '' };
}

/** Why `region` is refused, with the nearest region; undefined when it is a region. */
export function regionProblem(region: string): string | undefined {
  if (isKnownRegion(region)) return undefined;
  const nearest = nearestRegion(region);
  return `is not an AWS region${nearest === undefined ? ' (regions look like us-east-1 or eu-west-1)' : `: the nearest is ${nearest.region}, ${nearest.description}`}`;
}
