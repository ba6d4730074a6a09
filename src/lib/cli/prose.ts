/**
 * Help text is written wrapped at the source's width; oclif wraps it again to the terminal's. This
 * tag unwraps it first, so a paragraph reads as one: single newlines become spaces, blank lines
 * stay paragraph breaks.
 */
export function prose(strings: TemplateStringsArray, ...values: unknown[]): string {
  const text = strings.reduce(
    (out, part, i) => out + part + (i < values.length ? String(values[i]) : ''),
    '',
  );
  return text
    .split(/\n\s*\n/)
    .map((paragraph) => paragraph.replace(/\s*\n\s*/g, ' ').trim())
    .join('\n\n');
}
