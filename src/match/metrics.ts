/** String metrics the comparison levels use: Jaro-Winkler (with a cheap bound) and one edit apart (Damerau-Levenshtein ≤ 1). */
import jaroWinklerSimilarity from 'jaro-winkler';

/** Winkler's definition: the common-prefix bonus applies only above a Jaro of 0.7 (as in Splink's DuckDB and jellyfish). */
export const jaroWinkler = (a: string, b: string): number => jaroWinklerSimilarity(a, b);

const asciiCounts = new Int32Array(128);
/**
 * Jaro-Winkler where it can reach `floor`, else 0 without computing it: with at most
 * `c` characters in common (as multisets), Jaro is at most (c/|a| + c/|b| + 1)/3, and Winkler's
 * prefix bonus (the common prefix up to 4 characters, factor 0.1) is added to that. The bound costs one
 * pass over both strings, the metric a quadratic window scan; long, mostly different strings such
 * as two people's email addresses are ruled out by the bound alone.
 */
export function jaroWinklerAbove(a: string, b: string, floor: number): number {
  let common = 0;
  let otherA = 0;
  let otherB = 0;
  for (let i = 0; i < a.length; i += 1) {
    const code = a.charCodeAt(i);
    if (code < 128) asciiCounts[code]! += 1;
    else otherA += 1;
  }
  for (let i = 0; i < b.length; i += 1) {
    const code = b.charCodeAt(i);
    if (code >= 128) otherB += 1;
    else if (asciiCounts[code]! > 0) {
      asciiCounts[code]! -= 1;
      common += 1;
    }
  }
  for (let i = 0; i < a.length; i += 1) {
    const code = a.charCodeAt(i);
    if (code < 128) asciiCounts[code] = 0;
  }
  // Characters outside ASCII are not counted apart: assume they all match (still a bound).
  common += Math.min(otherA, otherB);
  // Winkler's bonus for the actual common prefix (at most 4) lifts Jaro j to j + prefix·0.1·(1 − j),
  // which grows with j: its value at the bound on j bounds the metric. Two emails at one domain
  // share most of their letters, but seldom their first: 31 % passed a bound assuming a prefix of
  // 4 (100k × 100k's candidates), where the metric cost 3.7 µs a pair.
  let prefix = 0;
  while (prefix < 4 && prefix < a.length && a.charCodeAt(prefix) === b.charCodeAt(prefix)) prefix += 1;
  const jaro = Math.min((common / a.length + common / b.length + 1) / 3, 1);
  if (jaro + prefix * 0.1 * (1 - jaro) < floor) return 0;
  return jaroWinkler(a, b);
}

/** At most one insertion, deletion, substitution or adjacent transposition apart. */
export function oneEditApart(a: string, b: string): boolean {
  if (a.length === b.length) {
    // Same length: one substitution, or one adjacent transposition; decided without a matrix.
    let first = -1;
    let differences = 0;
    for (let i = 0; i < a.length; i += 1) {
      if (a[i] === b[i]) continue;
      differences += 1;
      if (differences === 1) first = i;
      else if (differences > 2) return false;
    }
    if (differences <= 1) return true;
    return a[first] === b[first + 1] && a[first + 1] === b[first] && differences === 2;
  }
  if (Math.abs(a.length - b.length) > 1) return false;
  // One length apart: one insertion, so skipping one character of the longer leaves the shorter.
  const [long, short] = a.length > b.length ? [a, b] : [b, a];
  let i = 0;
  while (i < short.length && long[i] === short[i]) i += 1;
  return long.slice(i + 1) === short.slice(i);
}
