import { NormaliseError } from './error.js';

const currencyCodes = new Set(Intl.supportedValuesOf('currency'));
const currencySymbols: Record<string, string> = { $: 'USD', '€': 'EUR', '£': 'GBP', '¥': 'CNY', '￥': 'CNY', '元': 'CNY', 'RMB': 'CNY', '₹': 'INR', '₩': 'KRW', 'A$': 'AUD', 'HK$': 'HKD' };

export function isCurrencyCode(value: string): boolean {
  return currencyCodes.has(value);
}

export interface NumberFormat {
  /** The decimal separator; "," for "1.234,50". */
  decimal?: '.' | ',';
}

/** "1,234.50", "1 234,50" (with decimal ","), "-12" → a number. */
export function parseDecimal(value: string, format: NumberFormat = {}): number {
  const decimal = format.decimal ?? '.';
  const thousands = decimal === '.' ? /[,\s'_]/g : /[.\s'_]/g;
  let text = value.trim().replace(/\u00a0/g, ' ');
  const negative = /^\(.*\)$/.test(text) || text.startsWith('-');
  text = text.replace(/^[(-]|\)$/g, '').replace(thousands, '');
  if (decimal === ',') text = text.replace(',', '.');
  if (!/^\d+(\.\d+)?$/.test(text)) throw new NormaliseError('not a number');
  const number = Number(text);
  return negative ? -number : number;
}

/** "¥1,234.00", "EUR 12.50", "12.50" (with a default currency) → { amount, currency }. */
export function normaliseMoney(value: string, defaultCurrency?: string, format: NumberFormat = {}): { amount: number; currency: string } {
  let text = value.trim();
  let currency: string | undefined;
  const code = /^([A-Za-z]{3})\s*|\s*([A-Za-z]{3})$/.exec(text);
  if (code && isCurrencyCode((code[1] ?? code[2])!.toUpperCase())) {
    currency = (code[1] ?? code[2])!.toUpperCase();
    text = text.replace(code[0], '');
  }
  for (const [symbol, symbolCode] of Object.entries(currencySymbols).sort((a, b) => b[0].length - a[0].length)) {
    if (text.includes(symbol)) {
      currency ??= symbolCode;
      text = text.replace(symbol, '');
      break;
    }
  }
  currency ??= defaultCurrency;
  if (!currency) throw new NormaliseError('an amount without a currency (set one in the mapping)');
  if (!isCurrencyCode(currency)) throw new NormaliseError(`not an ISO 4217 currency: ${currency}`);
  const amount = parseDecimal(text, format);
  return { amount: Math.round(amount * 100) / 100, currency };
}
