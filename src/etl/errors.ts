/**
 * The ETL engine's own errors (no CLI knowledge: `src/lib` maps them to exit codes and messages).
 * `EtlError` is every failure of a transform: a bad spec, a structurally wrong input, too many
 * rejected rows. `ItemsError` is a catalogue conversion that cannot go ahead: `usage` marks a spec
 * or file that does not fit (the caller asked for something impossible) apart from bad lines.
 */

export type EtlErrorKind = 'spec' | 'structure' | 'threshold' | 'input';

export class EtlError extends Error {
  readonly kind: EtlErrorKind;
  readonly firstRejects: readonly { line: number; reason: string }[];
  /** Stable code, `ETL_<KIND>`. */
  readonly code: string;

  constructor(
    kind: EtlErrorKind,
    message: string,
    firstRejects: readonly { line: number; reason: string }[] = [],
  ) {
    super(message);
    this.name = 'EtlError';
    this.kind = kind;
    this.code = `ETL_${kind.toUpperCase()}`;
    this.firstRejects = firstRejects;
  }
}

export class ItemsError extends Error {
  /** Stable code: ITEMS_SPEC, ITEMS_HEADER, ITEMS_EMPTY, ITEMS_INVALID. */
  readonly code: string;
  readonly suggestions: string[];
  /** True when the spec or file does not fit what was asked (a usage error), not bad lines. */
  readonly usage: boolean;

  constructor(message: string, options: { code: string; suggestions?: string[]; usage?: boolean }) {
    super(message);
    this.name = 'ItemsError';
    this.code = options.code;
    this.suggestions = options.suggestions ?? [];
    this.usage = options.usage ?? false;
  }
}
