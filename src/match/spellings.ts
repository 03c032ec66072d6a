/**
 * How one name comes to be written two ways, for the name levels `transliterated` and
 * `keyboard_typo`. Pure functions over name keys (src/standard/normalise/names.ts: lower case,
 * diacritics folded).
 */

/**
 * Digraphs and letters that Latin transliterations (Ukrainian, Russian, Belarusian, Polish,
 * Azerbaijani…) spell differently for one sound, each to one spelling. Longest first.
 */
const spellings: [RegExp, string][] = [
  [/w/g, 'v'],
  [/shch|szcz/g, 'sc'],
  [/sch/g, 's'],
  [/kh/g, 'h'],
  [/zh|rz/g, 'z'],
  [/sh|sz/g, 's'],
  [/tch|ch|cz/g, 'c'],
  [/ts|tz/g, 'c'],
  [/ph/g, 'f'],
  // Ukrainian г is h, Russian г is g: yehor, yegor.
  [/g/g, 'h'],
  [/[jy]/g, 'i'],
  [/(.)\1+/g, '$1'],
  // A soft sign or iotation between a consonant and a vowel (natalija, natalia; alyona, alona), and before a first vowel (yurii, urii).
  [/(?<=[^aeiou ])i(?=[aeiou])/g, ''],
  [/^i(?=[aeiou])/g, ''],
];

const keys = new Map<string, string>();

/** One spelling for the transliterations of a name (oleksii, oleksiy, oleksij; mykhailo, mykhaylo; yehor, yegor); memoised, names repeat. */
export function transliterationKey(name: string): string {
  let key = keys.get(name);
  if (key === undefined) {
    key = name;
    for (const [pattern, replacement] of spellings) key = key.replace(pattern, replacement);
    if (keys.size > 100_000) keys.clear();
    keys.set(name, key);
  }
  return key;
}

/** Keys of a QWERTY keyboard by row and column, the digits' row first. */
const keyboardRows = ['1234567890', 'qwertyuiop', 'asdfghjkl', 'zxcvbnm'];
const keyAt = new Map<string, [number, number]>(keyboardRows.flatMap((row, r) => [...row].map((c, i): [string, [number, number]] => [c, [r, i]])));

/** Whether two keys touch: beside each other in a row, or in neighbouring rows at most one column apart. */
function neighbours(a: string, b: string): boolean {
  const p = keyAt.get(a);
  const q = keyAt.get(b);
  if (!p || !q) return false;
  const rows = Math.abs(p[0] - q[0]);
  const columns = Math.abs(p[1] - q[1]);
  return (rows === 0 && columns === 1) || (rows === 1 && columns <= 1);
}

/** One letter struck for its neighbour on the keyboard, digits' row included (rashad, rasgad; natig, nat8g); nothing else differs. */
export function isKeyboardTypo(x: string, y: string): boolean {
  if (x.length !== y.length || x === y) return false;
  let at = -1;
  for (let i = 0; i < x.length; i += 1) {
    if (x[i] === y[i]) continue;
    if (at >= 0) return false;
    at = i;
  }
  return neighbours(x[at]!, y[at]!);
}
