/**
 * XML text escaping shared by the REST-XML (S3) and Query (CloudFormation) codecs.
 */

/** Escapes text for XML content or attributes; CR is kept as a character reference (parsers fold a raw CR into LF). */
export function escapeXml(value: string): string {
  return value.replace(/[&<>"'\r]/g, (c) => {
    switch (c) {
      case '&':
        return '&amp;';
      case '<':
        return '&lt;';
      case '>':
        return '&gt;';
      case '"':
        return '&quot;';
      case "'":
        return '&apos;';
      default:
        return '&#xD;';
    }
  });
}
