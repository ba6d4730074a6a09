/**
 * The base of every mlpipe command: the global target flags, lazily resolved settings, the
 * connection to the target (starting the local stack when needed), the one-line target notice on
 * stderr, Ctrl-C (see interrupt.ts), and errors: MlpipeErrors (and engine errors, through
 * `fromEngineError`) are printed with their exit codes and suggestions, and under --json every error — flag parsing included — is one small document
 * on stdout, `{"error": {"code", "message", "suggestions", "exit"}}`.
 */
import { existsSync } from 'node:fs';
import { Command, Errors, Flags, type Interfaces } from '@oclif/core';
import { distance } from 'fastest-levenshtein';
import { Clients, type Connection } from './clients.js';
import { resolveSettings, type Settings } from './config.js';
import { ExitCode, fromEngineError } from './errors.js';
import { installInterruptHandler } from './interrupt.js';
import { connectLocalStack, otherBuildNotice } from '../local/lifecycle.js';
import {
  displayPath,
  normaliseTerminalWidth,
  stopSpinners,
  terminalWidth,
  uiMode,
  wrapWords,
  type UiOptions,
} from './ui.js';

/** The `--json` form of an error. */
export interface JsonError {
  error: { code: string; message: string; suggestions: string[]; exit: number };
}

/** Any error a command ends with → the exit code, stable code, message and suggestions to show. */
export function describeError(error: Error & { exitCode?: number }): JsonError['error'] {
  const known = fromEngineError(error);
  if (known !== undefined)
    return { code: known.code, message: known.message, suggestions: known.suggestions, exit: known.exit };
  // Ctrl-C at an inquirer prompt: the prompt rejects instead of a SIGINT arriving.
  if (error.name === 'ExitPromptError')
    return { code: 'INTERRUPTED', message: 'Interrupted.', suggestions: [], exit: ExitCode.interrupted };
  const oclif = (error as { oclif?: { exit?: number } }).oclif;
  const exit = oclif?.exit ?? error.exitCode ?? ExitCode.error;
  const suggestions = (error as { suggestions?: unknown }).suggestions;
  // Flag and argument errors from oclif's parser (exit 2) are usage errors.
  const code =
    (error as { code?: unknown }).code ?? (exit === ExitCode.usage ? 'USAGE' : error.name || 'ERROR');
  return {
    code: String(code),
    message: error.message.replace(/\nSee more help with --help$/, ''),
    suggestions: Array.isArray(suggestions) ? suggestions.map(String) : [],
    exit,
  };
}

/** For each unknown `--flag` (or `--flag=value`), the closest known flag within a few edits. */
export function closestFlags(typed: string[], known: string[]): string[] {
  const meant = new Set<string>();
  for (const raw of typed) {
    const name = raw.replace(/^-+/, '').split('=')[0]!;
    let best: string | undefined;
    let bestDistance = Infinity;
    for (const flag of known) {
      const d = flag.startsWith(name) && name.length >= 2 ? 0 : distance(name, flag);
      if (d < bestDistance) [best, bestDistance] = [flag, d];
    }
    if (best !== undefined && bestDistance <= Math.max(2, Math.floor(best.length / 3)))
      meant.add(`--${best}`);
  }
  return [...meant];
}

export type CommandFlags<T extends typeof Command> = Interfaces.InferredFlags<
  (typeof MlpipeCommand)['baseFlags'] & T['flags']
>;
export type CommandArgs<T extends typeof Command> = Interfaces.InferredArgs<T['args']>;

/** Set while a command runs other commands as its steps (`demo`), which say the target once. */
let targetNoticeOff = false;
export function quietTargetNotice(quiet: boolean): void {
  targetNoticeOff = quiet;
}

export abstract class MlpipeCommand<T extends typeof Command> extends Command {
  static override enableJsonFlag = true;

  static override baseFlags = {
    target: Flags.string({
      description: 'Where to run: the embedded local stack or AWS. [env: MLPIPE_TARGET]',
      options: ['local', 'aws'],
      helpGroup: 'TARGET',
    }),
    profile: Flags.string({
      description: 'AWS shared-config profile (aws target). [env: AWS_PROFILE]',
      helpGroup: 'TARGET',
    }),
    region: Flags.string({ description: 'AWS region. [env: AWS_REGION]', helpGroup: 'TARGET' }),
    'endpoint-url': Flags.string({
      description: 'Send AWS requests to this endpoint instead (aws target). [env: AWS_ENDPOINT_URL]',
      helpGroup: 'TARGET',
    }),
    'data-dir': Flags.string({
      description:
        "The local stack's data dir (default .mlpipe/local next to the project config). [env: MLPIPE_LOCAL_DIR]",
      helpGroup: 'TARGET',
    }),
  };

  protected flags!: CommandFlags<T>;
  protected args!: CommandArgs<T>;
  private resolvedSettings: Settings | undefined;
  private clientsCache: Clients | undefined;
  private targetAnnounced = false;

  public override async init(): Promise<void> {
    await super.init();
    installInterruptHandler((error) => {
      if (this.jsonEnabled()) this.logJson({ error: describeError(error) } satisfies JsonError);
      else process.stderr.write(`\n${error.message}\n`);
    });
    normaliseTerminalWidth(process.stdout);
    normaliseTerminalWidth(process.stderr);
    const { args, flags } = await this.parse({
      flags: this.ctor.flags,
      baseFlags: (super.ctor as typeof MlpipeCommand).baseFlags,
      enableJsonFlag: this.ctor.enableJsonFlag,
      args: this.ctor.args,
      strict: this.ctor.strict,
    });
    this.flags = flags as CommandFlags<T>;
    this.args = args as CommandArgs<T>;
  }

  /** Settings from flags, environment, config file and defaults (resolved on first use). */
  protected get settings(): Settings {
    if (this.resolvedSettings === undefined) {
      const flags = this.flags as CommandFlags<typeof MlpipeCommand>;
      this.resolvedSettings = resolveSettings({
        target: flags.target,
        profile: flags.profile,
        region: flags.region,
        endpointUrl: flags['endpoint-url'],
        dataDir: flags['data-dir'],
      });
    }
    return this.resolvedSettings;
  }

  protected get uiOptions(): UiOptions {
    return { json: this.jsonEnabled() };
  }

  /** Writes one progress line to stderr unless --json is on (stdout carries results only). */
  protected note(line: string): void {
    if (uiMode(this.uiOptions) !== 'silent') process.stderr.write(`${line}\n`);
  }

  /**
   * Writes a notice to stderr even under --json: which target is used and that a local stack is
   * being started are facts a person or a log needs, and stderr never mixes with the JSON result.
   */
  protected notice(line: string): void {
    process.stderr.write(`${line}\n`);
  }

  /** Warns, on stderr and wrapped to the terminal, when the running local stack is another build's. */
  protected warnIfOtherBuild(info: Parameters<typeof otherBuildNotice>[0]): void {
    const otherBuild = otherBuildNotice(info);
    if (otherBuild !== undefined)
      this.notice(wrapWords(`Warning: ${otherBuild}`, terminalWidth(process.stderr)));
  }

  /** States once, on stderr, which target this command talks to. */
  protected announceTarget(connection: Connection): void {
    if (this.targetAnnounced || targetNoticeOff) return;
    this.targetAnnounced = true;
    if (connection.target === 'local') {
      this.notice(
        `target: local stack at ${connection.endpoint} (data dir ${displayPath(this.settings.local.dataDir.value)})`,
      );
    } else {
      const parts = [
        `region ${connection.region ?? '(SDK default)'}`,
        connection.profile === undefined ? undefined : `profile ${connection.profile}`,
        connection.endpoint === undefined ? undefined : `endpoint ${connection.endpoint}`,
      ].filter((p) => p !== undefined);
      this.notice(`target: aws (${parts.join(', ')})`);
    }
  }

  /** SDK clients for the resolved target; on the local target starts the stack if needed. */
  protected async clients(): Promise<Clients> {
    if (this.clientsCache !== undefined) return this.clientsCache;
    const settings = this.settings;
    let connection: Connection;
    if (settings.target.value === 'local') {
      const dataDir = settings.local.dataDir.value;
      // A folder inside a project finds the project's stack; outside any project a new, empty
      // stack would be created here, so say so rather than show an empty pipeline silently.
      const newStackOutsideProject =
        settings.projectFound === 'cwd' &&
        settings.local.dataDir.source === 'default' &&
        !existsSync(dataDir);
      const local = await connectLocalStack(settings, () => {
        if (newStackOutsideProject)
          this.notice(
            `No mlpipe project in ${settings.projectDir} or above it (no mlpipe.config.json, no .mlpipe/): this creates a new local stack for ${settings.projectDir}. If your project is elsewhere, run mlpipe there; \`mlpipe init\` makes this folder a project.`,
          );
        this.notice(`Starting the local stack (data dir ${displayPath(dataDir)})…`);
      });
      if (!local.started) this.warnIfOtherBuild(local.info);
      connection = local.connection;
    } else {
      connection = {
        target: 'aws',
        region: settings.region.value,
        endpoint: settings.endpointUrl.value,
        credentials: undefined,
        profile: settings.profile.value,
      };
    }
    this.announceTarget(connection);
    this.clientsCache = new Clients(connection);
    return this.clientsCache;
  }

  protected override async catch(error: Error & { exitCode?: number }): Promise<unknown> {
    stopSpinners();
    const unknownFlags = (error as { flags?: unknown }).flags;
    if (/^Nonexistent flags?:/.test(error.message) && Array.isArray(unknownFlags)) {
      // oclif names the unknown flag but not the one meant: `--usr` → "Did you mean --user?".
      const known = Object.keys({ ...this.ctor.baseFlags, ...this.ctor.flags });
      const meant = closestFlags(unknownFlags.map(String), known);
      if (meant.length > 0)
        (error as { suggestions?: string[] }).suggestions = [`Did you mean ${meant.join(' or ')}?`];
    }
    const described = describeError(error);
    process.exitCode = described.exit;
    if (this.jsonEnabled()) {
      // oclif's own JSON error is the whole error object, parser state and configuration included.
      this.logJson({ error: described } satisfies JsonError);
      return undefined;
    }
    if (fromEngineError(error) !== undefined || described.code === 'INTERRUPTED') {
      // Printed here rather than by oclif, which hard-wraps at the terminal width and so breaks
      // ARNs, ids and commands in two: the terminal wraps long lines itself, and a copied command works.
      process.stderr.write(
        `Error: ${described.message}\n${described.suggestions.map((s) => `→ ${s}\n`).join('')}`,
      );
      throw new Errors.ExitError(described.exit);
    }
    return super.catch(error);
  }

  protected override async finally(error: Error | undefined): Promise<unknown> {
    this.clientsCache?.destroy();
    return super.finally(error);
  }
}
