/**
 * Text that can be printed and signed. Face data and holder names end up in a DOCX (XML 1.0
 * forbids C0 controls other than tab, line feed and carriage return, and U+FFFE/U+FFFF), in
 * a PDF and in the signed canonical record (RFC 8785 refuses lone surrogates). Refusing such
 * text when it is submitted is cheap; finding it at sealing costs a certificate number
 * (docs/security.md, "Personal data and compare").
 */

// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F\uFFFE\uFFFF]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why this text cannot be printed and signed, or undefined when it can. */
export function unprintableReason(s: string): string | undefined {
  const control = CONTROL.exec(s);
  if (control) {
    const code = control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
    return `must not contain control characters (U+${code} at position ${control.index + 1})`;
  }
  if (LONE_SURROGATE.test(s)) return 'must not contain a lone UTF-16 surrogate (not a character)';
  return undefined;
}
