/**
 * S3's XML on the wire: reading request documents (DeleteObjects' `<Delete>`, the
 * `<CompleteMultipartUpload>` part list, `<CreateBucketConfiguration>`,
 * `<PublicAccessBlockConfiguration>`) and writing response documents. A document that is not
 * well-formed is MalformedXML (400). Parsed elements are read through own properties only, so an
 * element named `__proto__` or `constructor` is just an unknown element.
 */
import { XMLBuilder, XMLParser, XMLValidator } from 'fast-xml-parser';
import { AwsError } from '../../core/errors.js';
import { escapeXml } from '../xml.js';

export const S3_XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';
export const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';
const XML_MALFORMED_MESSAGE =
  'The XML you provided was not well-formed or did not validate against our published schema';

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
  if (text.trim() === '' || XMLValidator.validate(text) !== true) throw malformedXml();
  const parsed: unknown = parser.parse(text);
  const element = child(parsed, root);
  if (element === undefined) {
    if (options.optionalRoot === true) return {};
    throw malformedXml();
  }
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
