/**
 * What `mlpipe <unknown command>` does: names the closest commands and exits 2 (a usage error),
 * like gh and git. It never runs another command: a typo must not start `init` or `deploy` on a
 * keypress, as the stock not-found plugin's "Did you mean …? (Y/n)" did. Under --json the error is
 * the same small JSON document every command prints.
 */
import type { Hook } from '@oclif/core';
import { distance } from 'fastest-levenshtein';
import { ExitCode } from '../lib/cli/errors.js';

/** Commands within a few edits of `typed`, or that contain it, closest first (at most three). */
export function closestCommands(typed: string, commands: string[]): string[] {
  const scored = commands.map((command) => {
    // "local strat" is compared with "local start"; "start" alone with each command's last word too.
    const last = command.split(' ').at(-1)!;
    const d = Math.min(distance(typed, command), typed.includes(' ') ? Infinity : distance(typed, last) + 1);
    return { command, d, contains: command.includes(typed) || (typed.length >= 3 && typed.includes(last)) };
  });
  const limit = Math.max(2, Math.floor(typed.length / 3));
  return scored
    .filter((s) => s.d <= limit || s.contains)
    .sort((a, b) => a.d - b.d || a.command.localeCompare(b.command))
    .slice(0, 3)
    .map((s) => s.command);
}

const hook: Hook<'command_not_found'> = async function (options) {
  const separator = options.config.topicSeparator;
  const show = (id: string): string => id.replaceAll(':', separator);
  const typed = show(options.id);
  const hidden = new Set(options.config.commands.filter((c) => c.hidden).map((c) => c.id));
  const commands = options.config.commandIDs.filter((id) => !hidden.has(id)).map(show);
  const closest = closestCommands(typed, commands);
  const bin = options.config.bin;
  const message = `"${typed}" is not a ${bin} command.`;
  const suggestions = [
    ...(closest.length === 0 ? [] : [`Did you mean ${closest.map((c) => `\`${bin} ${c}\``).join(', ')}?`]),
    `Run \`${bin} --help\` for every command.`,
  ];
  if ((options.argv ?? []).includes('--json') || process.argv.includes('--json')) {
    const error = { code: 'UNKNOWN_COMMAND', message, suggestions, exit: ExitCode.usage };
    process.stdout.write(`${JSON.stringify({ error }, null, 2)}\n`);
  } else {
    process.stderr.write(`Error: ${message}\n${suggestions.map((s) => `→ ${s}\n`).join('')}`);
  }
  this.exit(ExitCode.usage);
};

export default hook;
