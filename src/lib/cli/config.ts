/**
 * Configuration and targets: the one place that decides which target a command talks to, with
 * which AWS settings, and under which names (bucket, prefixes, stacks). Every resolved value
 * records where it came from so `mlpipe config show` can explain it.
 *
 * Precedence, highest first: command-line flag, environment variable, project config file
 * (mlpipe.config.json / .yaml / .yml, found by walking up from the cwd), built-in default. The
 * project root, which the default data dir and a project's own templates/ and glue/ hang off, is
 * the nearest folder at or above the cwd with a config file or an existing `.mlpipe/`.
 * For the aws target, region/profile/credentials left unset here fall through to the AWS SDK's
 * own default chain (AWS_PROFILE, AWS_REGION, ~/.aws/config, …).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { z as Zod } from 'zod';
import { MlpipeError, usageError } from './errors.js';
import { regionProblem } from './regions.js';
import {
  CONFIG_HYPERPARAMETERS,
  DEFAULT_RECIPE,
  hyperparameterSpec,
  TRAINING_RECIPES,
  type ConfigHyperparameter,
  type TrainingRecipe,
} from '../personalize/solution-settings.js';

export const CONFIG_FILE_NAMES = ['mlpipe.config.json', 'mlpipe.config.yaml', 'mlpipe.config.yml'] as const;
export const TARGETS = ['local', 'aws'] as const;
export type Target = (typeof TARGETS)[number];
export const DEFAULT_LOCAL_PORT = 4577;
export const DEFAULT_LOCAL_REGION = 'us-east-1';
/** Real ms per AWS ms of the local stack's waits: a 60 s wait lasts 60 ms. */
export const DEFAULT_TIME_SCALE = 0.001;

// zod and yaml are loaded when a config file is there to check (most commands run without one):
// together they are a fifth of a command's start-up. Loaded with require, as checking is synchronous.
const require = createRequire(import.meta.url);

function buildConfigFileSchema(z: typeof Zod) {
  const prefix = z
    .string()
    .min(1)
    .regex(/^[^/].*\/$/, 'must not start with "/" and must end with "/" (for example "raw/")');

  const nameLike = z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,40}$/, 'must be lower-case letters, digits and "-", at most 41 characters');

  /** `training.hyperparameters`: each one typed and ranged as the recommender takes it. */
  const hyperparametersSchema = z.strictObject(
    Object.fromEntries(
      Object.keys(CONFIG_HYPERPARAMETERS).map((name) => {
        const spec = hyperparameterSpec(name as ConfigHyperparameter);
        if (spec.type === 'bool') return [name, z.boolean().optional()];
        const number = spec.type === 'int' ? z.number().int() : z.number();
        return [name, number.min(spec.min).max(spec.max).optional()];
      }),
    ) as Record<ConfigHyperparameter, Zod.ZodOptional<Zod.ZodNumber> | Zod.ZodOptional<Zod.ZodBoolean>>,
  );

  return z.strictObject({
    project: nameLike.optional(),
    target: z.enum(TARGETS).optional(),
    region: z
      .string()
      .min(1)
      .superRefine((value, ctx) => {
        const problem = regionProblem(value);
        if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
      })
      .optional(),
    profile: z.string().min(1).optional(),
    endpointUrl: z.url().optional(),
    bucket: z
      .string()
      .regex(
        /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
        'must be a valid S3 bucket name (3-63 lower-case letters, digits, "." and "-")',
      )
      .optional(),
    prefixes: z
      .strictObject({
        raw: prefix.optional(),
        transformed: prefix.optional(),
        items: prefix.optional(),
        batchInput: prefix.optional(),
        recommendations: prefix.optional(),
      })
      .optional(),
    stacks: z
      .strictObject({
        datalake: z.string().min(1).optional(),
        etl: z.string().min(1).optional(),
        personalize: z.string().min(1).optional(),
        pipeline: z.string().min(1).optional(),
      })
      .optional(),
    local: z
      .strictObject({
        dataDir: z.string().min(1).optional(),
        port: z.number().int().min(0).max(65535).optional(),
        /** Real ms per AWS ms of the waits the local stack imposes (Wait states, schedules, provisioning). */
        timeScale: z.number().min(0).optional(),
      })
      .optional(),
    /** The project's solution: what the Personalize stack's solution is created with. */
    training: z
      .strictObject({
        recipe: z.enum(TRAINING_RECIPES).optional(),
        hpo: z.boolean().optional(),
        hyperparameters: hyperparametersSchema.optional(),
      })
      .optional(),
  });
}

let configFileSchema: ReturnType<typeof buildConfigFileSchema> | undefined;

/** The project config file's shape. Every key is optional; unknown keys are errors (typos). */
export function ConfigFileSchema(): ReturnType<typeof buildConfigFileSchema> {
  return (configFileSchema ??= buildConfigFileSchema((require('zod') as { z: typeof Zod }).z));
}
export type ConfigFile = Zod.infer<ReturnType<typeof buildConfigFileSchema>>;

export type SourceKind = 'flag' | 'env' | 'config' | 'default' | 'sdk';
export interface Resolved<T> {
  value: T;
  source: SourceKind;
  /** Human-readable origin: `--target`, `MLPIPE_TARGET`, `/path/mlpipe.config.json`, `default`. */
  from: string;
}

/** What the global flags of a command contribute. */
export interface ConfigOverrides {
  target?: string;
  profile?: string;
  region?: string;
  endpointUrl?: string;
  dataDir?: string;
}

export interface Settings {
  /** The project config file in force, if any. */
  configFile: string | undefined;
  /** Directory that relative paths and the default data dir are based on: the project root. */
  projectDir: string;
  /** How the project root was found (`cwd`: no config file or `.mlpipe/` at or above the cwd). */
  projectFound: ProjectRootFound;
  project: Resolved<string>;
  target: Resolved<Target>;
  /** For aws, undefined means "left to the SDK's default chain". */
  region: Resolved<string | undefined>;
  profile: Resolved<string | undefined>;
  endpointUrl: Resolved<string | undefined>;
  bucket: Resolved<string>;
  prefixes: {
    raw: Resolved<string>;
    transformed: Resolved<string>;
    items: Resolved<string>;
    batchInput: Resolved<string>;
    recommendations: Resolved<string>;
  };
  stacks: {
    datalake: Resolved<string>;
    etl: Resolved<string>;
    personalize: Resolved<string>;
    pipeline: Resolved<string>;
  };
  local: {
    dataDir: Resolved<string>;
    port: Resolved<number>;
    /** Real ms per AWS ms of waiting in a local stack this CLI starts (0.001: a 60 s wait lasts 60 ms). */
    timeScale: Resolved<number>;
  };
  /** The project's solution (the Personalize stack's). */
  training: {
    recipe: Resolved<TrainingRecipe>;
    hpo: Resolved<boolean>;
    /** The hyperparameters set, as Personalize takes them (strings); the recipe's defaults for the rest. */
    hyperparameters: Partial<Record<ConfigHyperparameter, Resolved<string>>>;
  };
}

/**
 * How the project root was found: its config file, an existing `.mlpipe/` (the local stack's
 * state, which the first deploy or upload creates), or neither — then the cwd is taken.
 */
export type ProjectRootFound = 'config-file' | 'mlpipe-dir' | 'cwd';

/**
 * The project root seen from `startDir`: the nearest folder at or above it with a config file,
 * else the nearest with an existing `.mlpipe/`, so every folder inside a project (data/, glue/, …)
 * finds the same root. A config file wins over a nearer `.mlpipe/` (one a command once left in a
 * sub-folder must not split the project).
 */
export function findProjectRoot(startDir: string): { dir: string; found: ProjectRootFound } {
  const configFile = findConfigFile(startDir);
  if (configFile !== undefined) return { dir: path.dirname(configFile), found: 'config-file' };
  let dir = path.resolve(startDir);
  for (;;) {
    if (isDirectory(path.join(dir, '.mlpipe'))) return { dir, found: 'mlpipe-dir' };
    const parent = path.dirname(dir);
    if (parent === dir) return { dir: path.resolve(startDir), found: 'cwd' };
    dir = parent;
  }
}

function isFile(file: string): boolean {
  return existsSync(file) && statSync(file).isFile();
}

function isDirectory(dir: string): boolean {
  return existsSync(dir) && statSync(dir).isDirectory();
}

/** Walks up from `startDir` to the filesystem root, returning the first config file found. */
export function findConfigFile(startDir: string): string | undefined {
  let dir = path.resolve(startDir);
  for (;;) {
    for (const name of CONFIG_FILE_NAMES) {
      const candidate = path.join(dir, name);
      if (isFile(candidate)) return candidate;
    }
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** Reads and checks a config file; errors name the file, and the line or key at fault. */
export function loadConfigFile(file: string): ConfigFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new MlpipeError(`Cannot read config file ${file}: ${(error as Error).message}`, {
      code: 'CONFIG_UNREADABLE',
    });
  }
  let raw: unknown;
  if (file.endsWith('.json')) {
    try {
      raw = text.trim() === '' ? {} : JSON.parse(text);
    } catch (error) {
      throw new MlpipeError(`Config file ${file} is not valid JSON: ${(error as Error).message}`, {
        code: 'CONFIG_INVALID',
        suggestions: ['Fix the JSON syntax, or delete the file to use the defaults.'],
      });
    }
  } else {
    const { parseDocument } = require('yaml') as typeof import('yaml');
    const doc = parseDocument(text, { prettyErrors: true });
    if (doc.errors.length > 0) {
      const first = doc.errors[0]!;
      const line = first.linePos?.[0]?.line;
      throw new MlpipeError(
        `Config file ${file}${line === undefined ? '' : `, line ${line}`} is not valid YAML: ${first.message.split('\n')[0]}`,
        { code: 'CONFIG_INVALID' },
      );
    }
    raw = doc.toJS() ?? {};
  }
  const parsed = ConfigFileSchema().safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => {
      const key = issue.path.join('.');
      if (issue.code === 'unrecognized_keys') {
        const where = key === '' ? '' : ` in "${key}"`;
        return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}${where}`;
      }
      return `"${key || '(top level)'}" ${issue.message}`;
    });
    throw new MlpipeError(`Config file ${file} is invalid: ${issues.join('; ')}`, {
      code: 'CONFIG_INVALID',
      suggestions: ['Valid keys: ' + Object.keys(ConfigFileSchema().shape).join(', ') + '. See the README.'],
    });
  }
  return parsed.data;
}

function pick<T>(
  candidates: Array<[T | undefined, SourceKind, string]>,
  fallback: Resolved<T> | undefined = undefined,
): Resolved<T> | undefined {
  for (const [value, source, from] of candidates) {
    if (value !== undefined && value !== '') return { value, source, from };
  }
  return fallback;
}

function must<T>(resolved: Resolved<T> | undefined): Resolved<T> {
  if (resolved === undefined) throw new Error('internal: a setting without a default');
  return resolved;
}

export interface ResolveOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** An explicit config file (skips the walk up). */
  configFile?: string;
}

/** Resolves every setting. Pure apart from reading the config file; `env` is injectable for tests. */
export function resolveSettings(overrides: ConfigOverrides = {}, options: ResolveOptions = {}): Settings {
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? process.env;
  const root = findProjectRoot(cwd);
  const configFile =
    options.configFile ??
    (env.MLPIPE_CONFIG || undefined) ??
    (root.found === 'config-file' ? findConfigFile(cwd) : undefined);
  if (configFile !== undefined && !existsSync(configFile)) {
    throw new MlpipeError(`Config file ${configFile} does not exist.`, {
      code: 'CONFIG_NOT_FOUND',
      suggestions: ['Check MLPIPE_CONFIG, or run `mlpipe` from your project directory.'],
    });
  }
  const file: ConfigFile = configFile === undefined ? {} : loadConfigFile(configFile);
  const projectDir = configFile === undefined ? root.dir : path.dirname(path.resolve(configFile));
  const projectFound: ProjectRootFound =
    configFile !== undefined ? 'config-file' : root.found === 'config-file' ? 'cwd' : root.found;
  const cfg = configFile ?? '';
  const def = <T>(value: T): Resolved<T> => ({ value, source: 'default', from: 'default' });

  const targetRaw = must(
    pick<string>(
      [
        [overrides.target, 'flag', '--target'],
        [env.MLPIPE_TARGET, 'env', 'MLPIPE_TARGET'],
        [file.target, 'config', cfg],
      ],
      def('local'),
    ),
  );
  if (!(TARGETS as readonly string[]).includes(targetRaw.value)) {
    throw usageError(
      `Unknown target "${targetRaw.value}" (from ${targetRaw.from}). Expected one of: ${TARGETS.join(', ')}.`,
      ['Use --target local (the embedded local stack) or --target aws.'],
      'BAD_TARGET',
    );
  }
  const target = targetRaw as Resolved<Target>;
  const isLocal = target.value === 'local';

  const project = must(pick<string>([[file.project, 'config', cfg]], def('mlpipe')));

  const region = must(
    pick<string | undefined>(
      [
        [overrides.region, 'flag', '--region'],
        [env.AWS_REGION, 'env', 'AWS_REGION'],
        [env.AWS_DEFAULT_REGION, 'env', 'AWS_DEFAULT_REGION'],
        [file.region, 'config', cfg],
      ],
      isLocal
        ? def(DEFAULT_LOCAL_REGION)
        : { value: undefined, source: 'sdk', from: 'AWS SDK default chain' },
    ),
  );
  // The config file's region was checked with the file; a flag or variable is checked here.
  const regionRefused =
    region.value === undefined || region.source === 'config' || region.source === 'default'
      ? undefined
      : regionProblem(region.value);
  if (regionRefused !== undefined) {
    throw usageError(`"${region.value}" (from ${region.from}) ${regionRefused}`, [], 'BAD_REGION');
  }
  const profile = must(
    pick<string | undefined>(
      [
        [overrides.profile, 'flag', '--profile'],
        [isLocal ? undefined : env.AWS_PROFILE, 'env', 'AWS_PROFILE'],
        [file.profile, 'config', cfg],
      ],
      isLocal
        ? { value: undefined, source: 'default', from: 'local stack credentials' }
        : { value: undefined, source: 'sdk', from: 'AWS SDK default chain' },
    ),
  );
  // AWS_ENDPOINT_URL only applies to the aws target: the local target finds its own endpoint.
  const endpointUrl = must(
    pick<string | undefined>(
      [
        [overrides.endpointUrl, 'flag', '--endpoint-url'],
        [isLocal ? undefined : env.AWS_ENDPOINT_URL, 'env', 'AWS_ENDPOINT_URL'],
        [file.endpointUrl, 'config', cfg],
      ],
      isLocal
        ? { value: undefined, source: 'default', from: 'local stack (started on demand)' }
        : { value: undefined, source: 'sdk', from: 'AWS SDK default chain' },
    ),
  );
  if (endpointUrl.value !== undefined && !/^https?:\/\/[^/]+/.test(endpointUrl.value)) {
    throw usageError(
      `Invalid endpoint URL "${endpointUrl.value}" (from ${endpointUrl.from}): expected http(s)://host[:port].`,
      [],
      'BAD_ENDPOINT',
    );
  }

  const bucket = must(pick<string>([[file.bucket, 'config', cfg]], def(`${project.value}-datalake`)));
  const pfx = (key: keyof NonNullable<ConfigFile['prefixes']>, fallback: string): Resolved<string> =>
    must(pick<string>([[file.prefixes?.[key], 'config', cfg]], def(fallback)));
  const stack = (key: keyof NonNullable<ConfigFile['stacks']>): Resolved<string> =>
    must(pick<string>([[file.stacks?.[key], 'config', cfg]], def(`${project.value}-${key}`)));

  const dataDirRaw = must(
    pick<string>(
      [
        [overrides.dataDir, 'flag', '--data-dir'],
        [env.MLPIPE_LOCAL_DIR, 'env', 'MLPIPE_LOCAL_DIR'],
        [file.local?.dataDir, 'config', cfg],
      ],
      def(path.join(projectDir, '.mlpipe', 'local')),
    ),
  );
  // Relative data dirs are relative to where they were said: the cwd for flags/env, the config file's dir for the file.
  const dataDirBase = dataDirRaw.source === 'config' ? projectDir : path.resolve(cwd);
  const dataDir = { ...dataDirRaw, value: path.resolve(dataDirBase, dataDirRaw.value) };

  const portFromEnv = env.MLPIPE_LOCAL_PORT === undefined ? undefined : Number(env.MLPIPE_LOCAL_PORT);
  if (
    portFromEnv !== undefined &&
    (!Number.isInteger(portFromEnv) || portFromEnv < 0 || portFromEnv > 65535)
  ) {
    throw usageError(`MLPIPE_LOCAL_PORT must be a port number (0-65535), got "${env.MLPIPE_LOCAL_PORT}".`);
  }
  const port = must(
    pick<number>(
      [
        [portFromEnv, 'env', 'MLPIPE_LOCAL_PORT'],
        [file.local?.port, 'config', cfg],
      ],
      def(DEFAULT_LOCAL_PORT),
    ),
  );

  const scaleFromEnv =
    env.MLPIPE_LOCAL_TIME_SCALE === undefined || env.MLPIPE_LOCAL_TIME_SCALE.trim() === ''
      ? undefined
      : Number(env.MLPIPE_LOCAL_TIME_SCALE);
  if (scaleFromEnv !== undefined && !(Number.isFinite(scaleFromEnv) && scaleFromEnv >= 0)) {
    throw usageError(
      `MLPIPE_LOCAL_TIME_SCALE must be a number ≥ 0 (0.001: a 60 s wait lasts 60 ms), got "${env.MLPIPE_LOCAL_TIME_SCALE}".`,
    );
  }
  const timeScale = must(
    pick<number>(
      [
        [scaleFromEnv, 'env', 'MLPIPE_LOCAL_TIME_SCALE'],
        [file.local?.timeScale, 'config', cfg],
      ],
      def(DEFAULT_TIME_SCALE),
    ),
  );

  const recipe = must(pick<TrainingRecipe>([[file.training?.recipe, 'config', cfg]], def(DEFAULT_RECIPE)));
  const hpo = must(pick<boolean>([[file.training?.hpo, 'config', cfg]], def(false)));
  const hyperparameters: Settings['training']['hyperparameters'] = {};
  for (const [name, value] of Object.entries(file.training?.hyperparameters ?? {})) {
    if (value === undefined) continue;
    const owner = CONFIG_HYPERPARAMETERS[name as ConfigHyperparameter].recipe;
    if (owner !== recipe.value)
      throw new MlpipeError(
        `Config file ${cfg} is invalid: "training.hyperparameters.${name}" is a hyperparameter of ${owner}, but the recipe is ${recipe.value}.`,
        {
          code: 'CONFIG_INVALID',
          suggestions: [`Remove it, or set training.recipe to ${owner}.`],
        },
      );
    hyperparameters[name as ConfigHyperparameter] = { value: String(value), source: 'config', from: cfg };
  }
  if (hpo.value && recipe.value !== 'aws-user-personalization')
    throw new MlpipeError(
      `Config file ${cfg} is invalid: "training.hpo" searches hyperparameters of aws-user-personalization, but the recipe is ${recipe.value}.`,
      { code: 'CONFIG_INVALID', suggestions: ['Remove training.hpo, or use aws-user-personalization.'] },
    );

  return {
    configFile,
    projectDir,
    projectFound,
    project,
    target,
    region,
    profile,
    endpointUrl,
    bucket,
    prefixes: {
      raw: pfx('raw', 'raw/'),
      transformed: pfx('transformed', 'transformed/'),
      items: pfx('items', 'items/'),
      batchInput: pfx('batchInput', 'batch_users_input/'),
      recommendations: pfx('recommendations', 'recommendations/'),
    },
    stacks: {
      datalake: stack('datalake'),
      etl: stack('etl'),
      personalize: stack('personalize'),
      pipeline: stack('pipeline'),
    },
    local: { dataDir, port, timeScale },
    training: { recipe, hpo, hyperparameters },
  };
}

/** Flattens settings into `key → {value, from}` rows for display and `--json`. */
export function describeSettings(
  settings: Settings,
): Array<{ key: string; value: string | number | null; from: string }> {
  const rows: Array<{ key: string; value: string | number | null; from: string }> = [];
  const add = (key: string, r: Resolved<string | number | undefined>): void => {
    rows.push({ key, value: r.value ?? null, from: r.from });
  };
  add('target', settings.target);
  add('project', settings.project);
  add('region', settings.region);
  add('profile', settings.profile);
  add('endpointUrl', settings.endpointUrl);
  add('bucket', settings.bucket);
  for (const [k, v] of Object.entries(settings.prefixes)) add(`prefixes.${k}`, v);
  for (const [k, v] of Object.entries(settings.stacks)) add(`stacks.${k}`, v);
  add('local.dataDir', settings.local.dataDir);
  add('local.port', settings.local.port);
  add('local.timeScale', settings.local.timeScale);
  add('training.recipe', settings.training.recipe);
  add('training.hpo', { ...settings.training.hpo, value: String(settings.training.hpo.value) });
  for (const [name, value] of Object.entries(settings.training.hyperparameters))
    add(`training.hyperparameters.${name}`, value);
  return rows;
}
