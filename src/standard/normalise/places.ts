/** Countries (names and codes to ISO 3166-1 alpha-2) and postcodes. */
import { getCountries } from 'libphonenumber-js';
import { NormaliseError } from './error.js';
import { nameKey } from './names.js';

const alpha2Codes = new Set<string>(getCountries());
// Codes libphonenumber lacks because no phone plan of their own is published.
for (const code of ['AQ', 'BV', 'HM', 'PN', 'GS', 'TF', 'UM']) alpha2Codes.add(code);

const aliases: Record<string, string> = {
  usa: 'US', 'u s a': 'US', us: 'US', 'united states of america': 'US', america: 'US',
  uk: 'GB', 'u k': 'GB', england: 'GB', scotland: 'GB', wales: 'GB', 'northern ireland': 'GB', 'great britain': 'GB', britain: 'GB',
  prc: 'CN', 'peoples republic of china': 'CN', "people's republic of china": 'CN', 'mainland china': 'CN', 中华人民共和国: 'CN', 中国大陆: 'CN',
  holland: 'NL', 'south korea': 'KR', 'republic of korea': 'KR', 'north korea': 'KP', russia: 'RU', 'russian federation': 'RU',
  'czech republic': 'CZ', 'ivory coast': 'CI', uae: 'AE', deutschland: 'DE', 'hong kong sar': 'HK', 香港: 'HK', 台湾: 'TW', 澳门: 'MO',
};

/** Every country name Node's ICU knows in English and Chinese, keyed by its comparison form. */
const countryByName: Map<string, string> = (() => {
  const map = new Map<string, string>();
  const english = new Intl.DisplayNames(['en'], { type: 'region' });
  const chinese = new Intl.DisplayNames(['zh'], { type: 'region' });
  for (const code of alpha2Codes) {
    for (const display of [english, chinese]) {
      const name = display.of(code);
      if (name && name !== code) map.set(nameKey(name), code);
    }
  }
  for (const [alias, code] of Object.entries(aliases)) map.set(nameKey(alias), code);
  return map;
})();

export function isCountryCode(value: string): boolean {
  return alpha2Codes.has(value);
}

/** "Germany", "de", "DEU"-less inputs, "中国" → ISO 3166-1 alpha-2. */
export function normaliseCountry(value: string): string {
  const text = value.trim();
  if (/^[A-Za-z]{2}$/.test(text) && alpha2Codes.has(text.toUpperCase())) return text.toUpperCase();
  const byName = countryByName.get(nameKey(text));
  if (byName) return byName;
  throw new NormaliseError('not a known country name or ISO 3166-1 alpha-2 code');
}

const postcodeRules: Record<string, { re: RegExp; format?: (compact: string) => string }> = {
  GB: { re: /^[A-Z]{1,2}\d[A-Z\d]?\d[A-Z]{2}$/, format: (c) => `${c.slice(0, -3)} ${c.slice(-3)}` },
  US: { re: /^\d{5}(\d{4})?$/, format: (c) => (c.length === 9 ? `${c.slice(0, 5)}-${c.slice(5)}` : c) },
  CN: { re: /^\d{6}$/ },
  AU: { re: /^\d{4}$/ },
  DE: { re: /^\d{5}$/ },
  FR: { re: /^\d{5}$/ },
  CA: { re: /^[A-Z]\d[A-Z]\d[A-Z]\d$/, format: (c) => `${c.slice(0, 3)} ${c.slice(3)}` },
  NL: { re: /^\d{4}[A-Z]{2}$/, format: (c) => `${c.slice(0, 4)} ${c.slice(4)}` },
  JP: { re: /^\d{7}$/, format: (c) => `${c.slice(0, 3)}-${c.slice(3)}` },
};

/** Upper-cases and re-spaces a postcode; checks its shape where the country's is known. */
export function normalisePostcode(value: string, country?: string): string {
  const compact = value.toUpperCase().replace(/[\s-]+/g, '');
  if (!/^[A-Z0-9]{2,10}$/.test(compact)) throw new NormaliseError('not a postcode');
  const rule = country ? postcodeRules[country] : undefined;
  if (!rule) return value.toUpperCase().replace(/\s+/g, ' ').trim();
  if (!rule.re.test(compact)) throw new NormaliseError(`not a ${country} postcode`);
  return rule.format ? rule.format(compact) : compact;
}
