/**
 * Names keep their original spelling in the record; these forms are for comparison only:
 * case folded, diacritics removed, whitespace collapsed, punctuation other than hyphens dropped.
 */

const hanRun = /\p{Script=Han}/u;

/** True when the name is written in Chinese characters. */
export function isHanName(value: string): boolean {
  return hanRun.test(value);
}

/** Collapses runs of white space and trims. */
export function tidyName(value: string): string {
  return value.normalize('NFC').replace(/\s+/gu, ' ').trim();
}

const plainAsciiName = /^[A-Za-z0-9-]+(?: [A-Za-z0-9-]+)*$/;

/** The form names are compared in: "  José  O'Brien-Smith " → "jose obrien-smith". */
export function nameKey(value: string): string {
  // Most names are plain ASCII words: for them every step below but lower-casing is a no-op.
  if (plainAsciiName.test(value)) return value.toLowerCase();
  return value
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[ß]/g, 'ss')
    .replace(/[ø]/g, 'o')
    .replace(/[æ]/g, 'ae')
    .replace(/[đð]/g, 'd')
    .replace(/[ł]/g, 'l')
    .replace(/['’`.]/g, '')
    .replace(/[^\p{L}\p{N}-]+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** Title case for Latin names written all in one case: "MARY-ANNE o'neil" → "Mary-Anne O'Neil". */
export function titleCase(value: string): string {
  return value.toLowerCase().replace(/(^|[\s\-'’])(\p{L})/gu, (_m, sep: string, letter: string) => sep + letter.toUpperCase());
}

/** Chinese compound family names; all others take the first character. */
const compoundFamilyNames = new Set([
  '欧阳', '司马', '上官', '诸葛', '东方', '皇甫', '尉迟', '公孙', '慕容', '长孙', '宇文', '司徒', '令狐', '夏侯', '轩辕', '端木', '独孤', '南宫', '西门', '百里', '呼延', '钟离', '澹台', '公冶', '太史', '申屠',
]);

/** Splits a Chinese full name (family name first, no spaces) into family and given names. */
export function splitHanName(full: string): { family: string; given: string } {
  const name = full.replace(/[\s·•]/g, '');
  const chars = Array.from(name);
  const familyLength = chars.length > 2 && compoundFamilyNames.has(chars.slice(0, 2).join('')) ? 2 : 1;
  return { family: chars.slice(0, familyLength).join(''), given: chars.slice(familyLength).join('') };
}

/** Splits a Latin full name: "Smith, John A." or "John A. Smith" → given, middle, family. */
export function splitLatinName(full: string): { given?: string; middle?: string; family?: string } {
  const tidy = tidyName(full);
  if (tidy.includes(',')) {
    const [family, rest = ''] = tidy.split(',', 2).map((s) => s.trim());
    const [given, ...middle] = rest.split(' ').filter(Boolean);
    return { family: family || undefined, given, middle: middle.join(' ') || undefined };
  }
  const parts = tidy.split(' ').filter(Boolean);
  if (parts.length === 1) return { given: parts[0] };
  return { given: parts[0], middle: parts.slice(1, -1).join(' ') || undefined, family: parts.at(-1) };
}
