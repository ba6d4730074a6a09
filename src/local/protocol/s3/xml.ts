/**
 * S3's XML on the wire: reading request documents (DeleteObjects' `<Delete>`, the
 * `<CompleteMultipartUpload>` part list, `<CreateBucketConfiguration>`,
 * `<PublicAccessBlockConfiguration>`) and writing response documents. Reading is defensive, as the
 * body is untrusted: a document type declaration (entities), nesting deeper than any S3 document,
 * a character XML 1.0 forbids (raw or as a character reference such as `&#1;`) or anything else
 * that is not well-formed is MalformedXML (400) — never a 500, never a silently altered value.
 * Parsed elements are read through own properties only, so an element named `__proto__` or
 * `constructor` is just an unknown element.
 */
import { XMLBuilder, XMLParser, XMLValidator } from 'fast-xml-parser';
import { AwsError } from '../../core/errors.js';
import { escapeXml } from '../xml.js';

export const S3_XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';
export const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';
const XML_MALFORMED_MESSAGE =
  'The XML you provided was not well-formed or did not validate against our published schema';
/** Deepest element nesting accepted; S3's request documents nest at most four levels. */
export const MAX_XML_DEPTH = 32;

/** Characters XML 1.0 allows (`Char` in the XML 1.0 specification, section 2.2). */
const FORBIDDEN_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

// Values are escaped by `escapeXml()` (the builder's own escaping leaves \r, which XML parsers fold).
const builder = new XMLBuilder({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  processEntities: false,
});
const parser = new XMLParser({
  ignoreAttributes: true,
  ignoreDeclaration: true,
  parseTagValue: false,
  trimValues: false,
  htmlEntities: true,
  removeNSPrefix: true,
  isArray: (name) => name === 'Object' || name === 'Part',
});

export function malformedXml(): AwsError {
  return new AwsError('MalformedXML', XML_MALFORMED_MESSAGE, 400);
}

/** A parsed element: its child elements and text, read through `child` and `text`. */
export type XmlElement = Readonly<Record<string, unknown>>;

/**
 * Parses an S3 request document and returns its root element (`{}` when the root is empty).
 * Throws MalformedXML for anything but a well-formed document with that root (with
 * `optionalRoot`, a document with another root reads as an empty one, as CreateBucket's does).
 */
export function parseXmlDocument(
  text: string,
  root: string,
  options: { optionalRoot?: boolean } = {},
): XmlElement {
  if (text.trim() === '') throw malformedXml();
  checkXmlText(text);
  let parsed: unknown;
  try {
    if (XMLValidator.validate(text) !== true) throw malformedXml();
    parsed = parser.parse(text);
  } catch {
    // Whatever the parser trips on (including exhaustion on hostile input) is the client's XML.
    throw malformedXml();
  }
  const element = child(parsed, root);
  if (element === undefined) {
    if (options.optionalRoot === true) return {};
    throw malformedXml();
  }
  checkValues(element, 0);
  return typeof element === 'object' && element !== null ? (element as XmlElement) : {};
}

/** An own child of a parsed element (never one inherited through the prototype). */
export function child(element: unknown, name: string): unknown {
  if (typeof element !== 'object' || element === null) return undefined;
  return Object.hasOwn(element, name) ? (element as Record<string, unknown>)[name] : undefined;
}

/** A child that must be text, when present. */
export function text(element: unknown, name: string): string | undefined {
  const value = child(element, name);
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw malformedXml();
  return value;
}

/** A child element repeated zero or more times. */
export function children(element: unknown, name: string): unknown[] {
  const value = child(element, name);
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/** Refuses DTDs (and with them entity declarations), forbidden characters and deep nesting before parsing. */
function checkXmlText(text: string): void {
  if (/<!DOCTYPE|<!ENTITY/i.test(text)) throw malformedXml();
  if (FORBIDDEN_CHAR.test(text)) throw malformedXml();
  for (const match of text.matchAll(/&#(x[0-9a-fA-F]+|[0-9]+);/g)) {
    const reference = match[1]!;
    const code = reference.startsWith('x') ? parseInt(reference.slice(1), 16) : parseInt(reference, 10);
    if (!isXmlChar(code)) throw malformedXml();
  }
  let depth = 0;
  // Start and end tags only; comments, processing instructions and CDATA do not nest.
  for (const match of text.matchAll(/<(\/?)([A-Za-z_][^\s/>]*)[^>]*?(\/?)>/g)) {
    if (match[1] === '/') depth--;
    else if (match[3] !== '/') depth++;
    if (depth > MAX_XML_DEPTH) throw malformedXml();
  }
}

function isXmlChar(code: number): boolean {
  return (
    code === 0x9 ||
    code === 0xa ||
    code === 0xd ||
    (code >= 0x20 && code <= 0xd7ff) ||
    (code >= 0xe000 && code <= 0xfffd) ||
    (code >= 0x10000 && code <= 0x10ffff)
  );
}

/** Every decoded text value is made of XML characters (entities the parser decoded included). */
function checkValues(value: unknown, depth: number): void {
  if (depth > MAX_XML_DEPTH) throw malformedXml();
  if (typeof value === 'string') {
    if (FORBIDDEN_CHAR.test(value)) throw malformedXml();
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  for (const item of Object.values(value)) checkValues(item, depth + 1);
}

// --- Writing

/** Values as S3 writes them: text escaped, dates in ISO 8601, lists as repeated elements, undefined left out. */
function xmlValue(value: unknown): unknown {
  if (typeof value === 'string') return escapeXml(value);
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(xmlValue);
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [name, member] of Object.entries(value)) {
      if (member === undefined) continue;
      out[name] = name.startsWith('@_') ? member : xmlValue(member);
    }
    return out;
  }
  return value;
}

/** A response document: `<root xmlns="…">content</root>` after the XML declaration. */
export function xmlDocument(root: string, content: Record<string, unknown>, xmlns = true): string {
  const element = xmlns ? { '@_xmlns': S3_XMLNS, ...content } : content;
  return XML_DECLARATION + builder.build({ [root]: xmlValue(element) });
}
