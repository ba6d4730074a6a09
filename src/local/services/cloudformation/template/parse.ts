/**
 * Template bodies (YAML or JSON text) → plain `TemplateValue` trees. Every YAML short-form tag
 * (`!Ref`, `!GetAtt`, `!Sub`, …) becomes its long form (`{"Ref": …}`, `{"Fn::GetAtt": [...]}`) through
 * the `yaml` package's custom tags. Bad input becomes a `TemplateParseError` naming line and column.
 */
import { LineCounter, parseDocument, visit, type YAMLError } from 'yaml';
import { cloudFormationYamlTags, SHORT_FORM_TAGS } from '../../../../shared/cloudformation-yaml.js';
import { TemplateParseError, type TemplateValue } from './types.js';

export { SHORT_FORM_TAGS };

const customTags = cloudFormationYamlTags();

/** 1-based line/column of an offset, for JSON errors that only give a position. */
function lineColumnAt(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let index = 0; index < offset && index < text.length; index++) {
    if (text.charCodeAt(index) === 10) {
      line++;
      lineStart = index + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

function yamlFailure(error: YAMLError, lineCounter: LineCounter): TemplateParseError {
  const { line, col } = lineCounter.linePos(error.pos[0]);
  const detail = error.message.split('\n')[0] ?? '';
  return new TemplateParseError(
    `Template format error: YAML not well-formed. (line ${line}, column ${col}): ${detail}`,
    line,
    col,
  );
}

/** Parses YAML (CloudFormation's dialect: short-form tags, no aliases). */
export function parseYamlTemplate(body: string): TemplateValue {
  const lineCounter = new LineCounter();
  const doc = parseDocument(body, { customTags, lineCounter, prettyErrors: false, uniqueKeys: true });
  const unresolvedTag = doc.warnings.find((warning) => warning.code === 'TAG_RESOLVE_FAILED');
  const first = doc.errors[0] ?? unresolvedTag;
  if (first) throw yamlFailure(first, lineCounter);

  let alias: { line: number; col: number } | undefined;
  visit(doc, {
    Alias(_key, node) {
      alias = lineCounter.linePos(node.range?.[0] ?? 0);
      return visit.BREAK;
    },
    Scalar(_key, node) {
      // JS numbers lose how a number was written: `GlueVersion: 4.0` must stay "4.0", `0123` "0123".
      if (typeof node.value === 'number' && node.source !== undefined && String(node.value) !== node.source) {
        node.value = node.source;
      }
    },
  });
  if (alias) {
    throw new TemplateParseError(
      `Template error: YAML aliases are not allowed in CloudFormation templates (line ${alias.line}, column ${alias.col})`,
      alias.line,
      alias.col,
    );
  }
  return (doc.toJS() ?? null) as TemplateValue;
}

class JsonSyntaxError extends Error {
  constructor(readonly offset: number) {
    super(`JSON syntax error at offset ${offset}`);
  }
}

const JSON_NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const JSON_LITERAL = /true|false|null/y;

/**
 * Offset of the first syntax error in JSON text (-1 if none). V8's JSON.parse messages do not
 * always carry a position, so failures are located by this small recursive-descent scan.
 */
export function jsonSyntaxErrorOffset(text: string): number {
  let index = 0;
  const fail = (): never => {
    throw new JsonSyntaxError(index);
  };
  const skipSpace = (): void => {
    while (index < text.length && ' \t\n\r'.includes(text[index] as string)) index++;
  };
  const expect = (char: string): void => {
    skipSpace();
    if (text[index] !== char) fail();
    index++;
  };
  const string = (): void => {
    index++;
    while (index < text.length) {
      const char = text[index] as string;
      if (char === '"') {
        index++;
        return;
      }
      if (char === '\\') {
        index++;
        if (!'"\\/bfnrtu'.includes(text[index] ?? 'x')) fail();
      } else if (char < ' ') {
        fail();
      }
      index++;
    }
    fail();
  };
  const matchAt = (pattern: RegExp): boolean => {
    pattern.lastIndex = index;
    const match = pattern.exec(text);
    if (match) index += match[0].length;
    return match !== null;
  };
  const value = (): void => {
    skipSpace();
    const char = text[index];
    if (char === '{' || char === '[') {
      const close = char === '{' ? '}' : ']';
      index++;
      skipSpace();
      if (text[index] === close) {
        index++;
        return;
      }
      for (;;) {
        if (close === '}') {
          skipSpace();
          if (text[index] !== '"') fail();
          string();
          expect(':');
        }
        value();
        skipSpace();
        if (text[index] === ',') {
          index++;
          continue;
        }
        expect(close);
        return;
      }
    }
    if (char === '"') return string();
    if (!matchAt(JSON_NUMBER) && !matchAt(JSON_LITERAL)) fail();
  };
  try {
    value();
    skipSpace();
    if (index < text.length) fail();
    return -1;
  } catch (error) {
    if (error instanceof JsonSyntaxError) return error.offset;
    throw error;
  }
}

/** Parses JSON, reporting the line and column of a syntax error. */
export function parseJsonTemplate(body: string): TemplateValue {
  try {
    return JSON.parse(body) as TemplateValue;
  } catch {
    const offset = jsonSyntaxErrorOffset(body);
    const where = lineColumnAt(body, offset < 0 ? body.length : offset);
    throw new TemplateParseError(
      `Template format error: JSON not well-formed. (line ${where.line}, column ${where.column})`,
      where.line,
      where.column,
    );
  }
}

export type TemplateFormat = 'json' | 'yaml';

/**
 * JSON when the body is an object whose first key is quoted (`{"…`) or empty (`{}`); anything else
 * is YAML, including flow-style YAML such as `{Resources: …}`.
 */
export function detectTemplateFormat(body: string): TemplateFormat {
  return /^\s*\{\s*["}]/.test(body) ? 'json' : 'yaml';
}

/** Parses a template body, YAML or JSON (see `detectTemplateFormat`). */
export function parseTemplate(body: string): TemplateValue {
  return detectTemplateFormat(body) === 'json' ? parseJsonTemplate(body) : parseYamlTemplate(body);
}
