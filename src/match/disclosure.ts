/**
 * What a match answer may say about the fields behind it. An explanation names the level a
 * comparison reached (`exact`, `day_month_swapped`, `same_last_7_digits`…), which tells whoever
 * guessed the value whether the guess was right: so it names only comparisons on fields the grantee
 * may see, and sums the rest into one undisclosed weight.
 */
import type { FieldExplanation } from './model.js';

/** The standard's field each comparison reads (paths of the field dictionary). */
export const comparisonFields: Readonly<Record<string, string>> = {
  given_name: 'name.given',
  family_name: 'name.family',
  birth_date: 'birthDate',
  email: 'emails[].address',
  phone: 'phones[].number',
  postcode: 'addresses[].postcode',
  street: 'addresses[].lines',
  locality: 'addresses[].locality',
  region: 'addresses[].region',
  identifier: 'identifiers[].value',
  gender: 'gender',
};

/** Whether a granted field path covers a field: the same path, or one of its parents (`name` covers `name.given`). */
export function covers(granted: readonly string[], field: string): boolean {
  return granted.some((path) => field === path || field.startsWith(`${path}.`) || field.startsWith(`${path}[].`));
}

export interface DisclosedExplanation {
  comparison: string;
  level: string;
  weight?: number;
}

export const UNDISCLOSED = 'undisclosed';

/**
 * The explanation as the grantee may read it: comparisons on granted fields as they are, the rest
 * summed into one `undisclosed` entry; without scores, no weights at all.
 */
export function discloseExplanation(explanation: readonly FieldExplanation[], granted: readonly string[], scores: boolean): DisclosedExplanation[] {
  const shown: DisclosedExplanation[] = [];
  let hidden = 0;
  let hiddenCount = 0;
  for (const entry of explanation) {
    const field = comparisonFields[entry.comparison];
    if (field && covers(granted, field)) shown.push(scores ? entry : { comparison: entry.comparison, level: entry.level });
    else {
      hidden += entry.weight;
      hiddenCount += 1;
    }
  }
  if (hiddenCount && scores) shown.push({ comparison: UNDISCLOSED, level: UNDISCLOSED, weight: Math.round(hidden * 100) / 100 });
  return shown;
}
