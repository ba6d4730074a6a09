/**
 * `mlpipe init`: choosing a new project's settings (from flags, a person's answers or defaults),
 * checking them with the config file's own schema, and writing `mlpipe.config.json` — plus, on
 * request, a copy of the package's CloudFormation templates to customise. Nothing is overwritten
 * without `force`, and nothing is written unless everything can be.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, promises as fs, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from '../../shared/atomic-file.js';
import {
  CONFIG_FILE_NAMES,
  ConfigFileSchema,
  DEFAULT_LOCAL_REGION,
  type ConfigFile,
  type Target,
} from '../cli/config.js';
import { MlpipeError, usageError } from '../cli/errors.js';
import type { Prompter } from '../cli/ui.js';

/** The file `init` writes (the first name the config lookup tries, so it wins over the others). */
export const INIT_CONFIG_FILE_NAME = 'mlpipe.config.json';
/** Where `--templates` copies to by default: the directory `mlpipe deploy` reads when present. */
export const DEFAULT_TEMPLATES_DIR = 'templates';
/** The templates shipped with mlpipe (resolves from src/lib and from dist/lib alike). */
export const PACKAGE_TEMPLATES_URL = new URL('../../../templates/', import.meta.url);

const FALLBACK_PROJECT = 'mlpipe';
const PROJECT_MAX_LENGTH = 41;

/** The values `init` asks for. */
export interface InitValues {
  project: string;
  target: Target;
  region: string;
  bucket: string;
}

/** Settings recorded only when given as flags (no question is asked for them). */
export interface InitExtras {
  profile?: string;
  endpointUrl?: string;
  dataDir?: string;
}

/** A project name the config accepts, made from a directory name: `My Movies_2` → `my-movies-2`. */
export function defaultProjectName(dir: string): string {
  const name = path
    .basename(path.resolve(dir))
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-+/, '')
    .slice(0, PROJECT_MAX_LENGTH)
    .replace(/-+$/, '');
  return name === '' ? FALLBACK_PROJECT : name;
}

/** A random suffix for globally unique bucket names (no AWS call: init works offline). */
export function randomBucketSuffix(): string {
  return randomBytes(4).toString('hex');
}

/**
 * The bucket name to suggest: `<project>-datalake` locally; on AWS, where bucket names are global
 * across all accounts, `<project>-datalake-<suffix>` so it is unlikely to be taken.
 */
export function suggestedBucketName(project: string, target: Target, suffix = randomBucketSuffix()): string {
  return target === 'aws' ? `${project}-datalake-${suffix}` : `${project}-datalake`;
}

type FieldKey = 'project' | 'region' | 'bucket';

/** The schema's verdict on one field: true, or its message (for prompt validation). */
export function checkField(key: FieldKey, value: string): true | string {
  const result = ConfigFileSchema().shape[key].safeParse(value);
  return result.success ? true : (result.error.issues[0]?.message ?? 'is not valid');
}

/** Fills in whatever the flags left out with the defaults (no questions asked). */
export function completeInitValues(given: Partial<InitValues>, dir: string): InitValues {
  const project = given.project ?? defaultProjectName(dir);
  const target = given.target ?? 'local';
  return {
    project,
    target,
    region: given.region ?? DEFAULT_LOCAL_REGION,
    bucket: given.bucket ?? suggestedBucketName(project, target),
  };
}

/**
 * `--templates` may be given without a directory (`mlpipe init --templates --force`): oclif has
 * no optional flag values, so a bare `--templates` gets the default directory inserted here.
 */
export function withDefaultTemplatesDir(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let index = 0; index < argv.length; index++) {
    const token = argv[index] as string;
    out.push(token);
    if (token === '--') {
      out.push(...argv.slice(index + 1));
      break;
    }
    const next = argv[index + 1];
    if (token === '--templates' && (next === undefined || next.startsWith('-'))) {
      out.push(DEFAULT_TEMPLATES_DIR);
    }
  }
  return out;
}

/** What `promptInitValues` needs from a prompt library. */
export type InitPrompter = Prompter;

/** Asks for each value the flags left out, in order, with the defaults pre-filled. */
export async function promptInitValues(
  given: Partial<InitValues>,
  dir: string,
  prompter: InitPrompter,
): Promise<InitValues> {
  const validator = (key: FieldKey) => (value: string) => {
    const verdict = checkField(key, value.trim());
    return verdict === true ? true : `${key} ${verdict}`;
  };
  const project =
    given.project ??
    (
      await prompter.input({
        message: 'Project name (names the bucket, stacks and pipeline resources)',
        default: defaultProjectName(dir),
        validate: validator('project'),
      })
    ).trim();
  const target =
    given.target ??
    (await prompter.select<Target>({
      message: 'Default target',
      default: 'local',
      choices: [
        {
          value: 'local',
          name: 'local',
          description: 'The embedded AWS-compatible local stack on this machine (no AWS account needed)',
        },
        { value: 'aws', name: 'aws', description: 'Your AWS account, through the AWS SDK credential chain' },
      ],
    }));
  const region =
    given.region ??
    (
      await prompter.input({
        message: 'AWS region',
        default: DEFAULT_LOCAL_REGION,
        validate: validator('region'),
      })
    ).trim();
  const bucket =
    given.bucket ??
    (
      await prompter.input({
        message:
          target === 'aws'
            ? 'Data-lake bucket (names are global across AWS accounts; the suggestion has a random suffix)'
            : 'Data-lake bucket',
        default: suggestedBucketName(project, target),
        validate: validator('bucket'),
      })
    ).trim();
  return { project, target, region, bucket };
}

const FLAG_OF: Readonly<Record<string, string>> = {
  project: '--project',
  target: '--target',
  region: '--region',
  bucket: '--bucket',
  profile: '--profile',
  endpointUrl: '--endpoint-url',
  'local.dataDir': '--data-dir',
};

function configObject(values: Partial<InitValues>, extras: InitExtras): Record<string, unknown> {
  const entries: Array<[string, unknown]> = [
    ['project', values.project],
    ['target', values.target],
    ['region', values.region],
    ['profile', extras.profile],
    ['endpointUrl', extras.endpointUrl],
    ['bucket', values.bucket],
    ['local', extras.dataDir === undefined ? undefined : { dataDir: extras.dataDir }],
  ];
  return Object.fromEntries(entries.filter(([, value]) => value !== undefined));
}

/** Checks `raw` with `ConfigFileSchema`; a bad value is a usage error naming the flag, key and rule. */
function parseConfig(raw: Record<string, unknown>): ConfigFile {
  const parsed = ConfigFileSchema().safeParse(raw);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    const key = issue.path.join('.');
    const value = issue.path.reduce<unknown>(
      (node, part) => (node as Record<PropertyKey, unknown> | undefined)?.[part as PropertyKey],
      raw,
    );
    const flag = FLAG_OF[key];
    return `${flag === undefined ? '' : `${flag} `}${JSON.stringify(value)}: "${key}" ${issue.message}`;
  });
  throw usageError(
    `Invalid ${problems.join('; ')}.`,
    ['Nothing was written. Fix the value and run `mlpipe init` again.'],
    'CONFIG_INVALID',
  );
}

/**
 * Checks the values given as flags before anything is derived from them or asked, so a bad
 * --project is reported as such (not as the bucket name made from it).
 */
export function checkGivenValues(given: Partial<InitValues>, extras: InitExtras = {}): void {
  parseConfig(configObject(given, extras));
}

/** The config file's content, checked with `ConfigFileSchema` (see `checkGivenValues` for errors). */
export function buildConfigFile(values: InitValues, extras: InitExtras = {}): ConfigFile {
  return parseConfig(configObject(values, extras));
}

/** Config files (any of the names the lookup accepts) directly in `dir`. */
export function configFilesIn(dir: string): string[] {
  return CONFIG_FILE_NAMES.map((name) => path.join(dir, name)).filter(
    (file) => existsSync(file) && statSync(file).isFile(),
  );
}

/** The package's templates (`templates/*.yaml`), sorted by name. */
export async function packageTemplates(): Promise<string[]> {
  const dir = fileURLToPath(PACKAGE_TEMPLATES_URL);
  const names = await fs.readdir(dir);
  return names
    .filter((name) => name.endsWith('.yaml') || name.endsWith('.yml'))
    .sort()
    .map((name) => path.join(dir, name));
}

export interface InitOptions {
  /** The project directory: where the config file is written and relative paths start. */
  dir: string;
  config: ConfigFile;
  /** Overwrite an existing config file and existing template copies. */
  force?: boolean;
  /** Copy the package's templates into this directory (relative to `dir`); undefined: don't. */
  templatesDir?: string;
}

export interface InitResult {
  /** Absolute path of the config file written. */
  configFile: string;
  /** What it contains. */
  config: ConfigFile;
  /** Absolute paths of the template copies written (empty without --templates). */
  templatesCopied: string[];
}

/** One template file to copy: from the package, to the project. */
export interface TemplateCopy {
  from: string;
  to: string;
}

/**
 * Every refusal `initProject` can make, checked without writing anything (so a command can
 * refuse before asking questions): an existing config file or template copy without `force`,
 * an empty templates directory name, a templates path that is a file. Returns the copies to make.
 */
export async function preflightInit(options: Omit<InitOptions, 'config'>): Promise<TemplateCopy[]> {
  const dir = path.resolve(options.dir);
  const force = options.force === true;

  const existing = configFilesIn(dir);
  if (existing.length > 0 && !force) {
    const names = existing.map((file) => path.basename(file));
    throw new MlpipeError(
      `${names.join(' and ')} already exist${names.length === 1 ? 's' : ''} in ${dir}; not overwriting.`,
      {
        code: 'CONFIG_EXISTS',
        suggestions: [
          'Use --force to replace it, or edit it by hand (`mlpipe config show` shows what it resolves to).',
        ],
      },
    );
  }

  const copies: TemplateCopy[] = [];
  if (options.templatesDir !== undefined) {
    if (options.templatesDir.trim() === '') {
      throw usageError(
        '--templates needs a directory name.',
        ['For example --templates templates.'],
        'BAD_FLAG',
      );
    }
    const targetDir = path.resolve(dir, options.templatesDir);
    if (existsSync(targetDir) && !statSync(targetDir).isDirectory()) {
      throw new MlpipeError(
        `${targetDir} exists and is not a directory; cannot copy the templates into it.`,
        {
          code: 'NOT_A_DIRECTORY',
          suggestions: ['Pass another directory with --templates DIR.'],
        },
      );
    }
    for (const from of await packageTemplates()) {
      copies.push({ from, to: path.join(targetDir, path.basename(from)) });
    }
    const clashes = copies.filter((copy) => existsSync(copy.to)).map((copy) => copy.to);
    if (clashes.length > 0 && !force) {
      throw new MlpipeError(
        `${clashes.map((file) => path.relative(dir, file) || file).join(', ')} already exist${clashes.length === 1 ? 's' : ''}; not overwriting.`,
        {
          code: 'FILE_EXISTS',
          suggestions: [
            'Use --force to replace them with the templates shipped with mlpipe, or pick another --templates DIR.',
          ],
        },
      );
    }
  }
  return copies;
}

/**
 * Writes the config file (and template copies) after `preflightInit`'s checks, so nothing is
 * written unless everything can be. Files are replaced atomically.
 */
export async function initProject(options: InitOptions): Promise<InitResult> {
  const copies = await preflightInit(options);
  const configFile = path.join(path.resolve(options.dir), INIT_CONFIG_FILE_NAME);
  await writeFileAtomic(configFile, `${JSON.stringify(options.config, null, 2)}\n`);
  const templatesCopied: string[] = [];
  for (const copy of copies) {
    await writeFileAtomic(copy.to, await fs.readFile(copy.from));
    templatesCopied.push(copy.to);
  }
  return { configFile, config: options.config, templatesCopied };
}

/**
 * Sets one top-level key of the project's config file (creating `mlpipe.config.json` in the
 * project root when there is none), keeping the rest of the file — YAML comments included.
 */
export async function saveConfigValue(
  configFile: string | undefined,
  projectDir: string,
  key: 'bucket',
  value: string,
): Promise<string> {
  const file = configFile ?? path.join(projectDir, 'mlpipe.config.json');
  const checked = checkField(key, value);
  if (checked !== true) throw usageError(`${key} "${value}" ${checked}.`, [], 'CONFIG_INVALID');
  let text: string;
  if (!existsSync(file)) text = `${JSON.stringify({ [key]: value }, null, 2)}\n`;
  else if (file.endsWith('.json')) {
    const current = JSON.parse((await fs.readFile(file, 'utf8')) || '{}') as Record<string, unknown>;
    text = `${JSON.stringify({ ...current, [key]: value }, null, 2)}\n`;
  } else {
    const { parseDocument } = await import('yaml');
    const doc = parseDocument(await fs.readFile(file, 'utf8'));
    doc.set(key, value);
    text = String(doc);
  }
  await writeFileAtomic(file, text);
  return file;
}
