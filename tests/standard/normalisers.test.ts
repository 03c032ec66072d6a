import { describe, expect, it } from 'vitest';
import {
  NormaliseError,
  nameKey,
  normaliseCountry,
  normaliseDate,
  normaliseEmail,
  normaliseMoney,
  normalisePhone,
  normalisePostcode,
  normaliseTimestamp,
  parseDecimal,
  splitHanName,
  splitLatinName,
  titleCase,
} from '../../src/standard/normalise/index.js';

describe('names', () => {
  it('folds case, diacritics, punctuation and white space for comparison', () => {
    expect(nameKey('  José  O’Brien-Smith ')).toBe('jose obrien-smith');
    expect(nameKey('MÜLLER')).toBe('muller');
    expect(nameKey('Straße')).toBe('strasse');
    expect(nameKey('张 伟')).toBe('张 伟');
  });
  it('gives plain ASCII names the same key on its fast path as the full folding', () => {
    // A leading zero-width space sends a name through every folding step and is itself dropped.
    const alphabet = "aZm09-'. \t";
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let i = 0; i < 2000; i += 1) {
      const name = Array.from({ length: 1 + Math.floor(next() * 12) }, () => alphabet[Math.floor(next() * alphabet.length)]).join('');
      expect(nameKey(name), JSON.stringify(name)).toBe(nameKey(`\u200b${name}`));
    }
    expect(nameKey('Mary-Ann Smith')).toBe('mary-ann smith');
  });
  it('title-cases names written in one case', () => {
    expect(titleCase("MARY-ANNE o'neil")).toBe("Mary-Anne O'Neil");
  });
  it('splits Chinese names family first, with compound surnames', () => {
    expect(splitHanName('张伟')).toEqual({ family: '张', given: '伟' });
    expect(splitHanName('欧阳娜娜')).toEqual({ family: '欧阳', given: '娜娜' });
    expect(splitHanName('司马 相如')).toEqual({ family: '司马', given: '相如' });
  });
  it('splits Latin names in either order', () => {
    expect(splitLatinName('John A. Smith')).toEqual({ given: 'John', middle: 'A.', family: 'Smith' });
    expect(splitLatinName('Smith, John')).toEqual({ given: 'John', middle: undefined, family: 'Smith' });
  });
});

describe('emails', () => {
  it('trims, lower-cases and strips mailto', () => {
    expect(normaliseEmail(' mailto:John.Smith@Example.COM ')).toBe('john.smith@example.com');
  });
  it.each(['not-an-email', 'a@b', 'a..b@example.com', 'a b@example.com'])('refuses %s', (value) => {
    expect(() => normaliseEmail(value)).toThrow(NormaliseError);
  });
});

describe('phones', () => {
  it('writes numbers as E.164 using the default country', () => {
    expect(normalisePhone('(415) 234-0132', 'US')).toBe('+14152340132');
    expect(normalisePhone('138 1234 5678', 'CN')).toBe('+8613812345678');
    expect(normalisePhone('0044 20 7946 0018')).toBe('+442079460018');
    expect(normalisePhone('+86 139-1234-5678', 'US')).toBe('+8613912345678');
  });
  it('finds the number in a cell that says more than the number', () => {
    expect(normalisePhone('mobile: 138 1234 5678', 'CN')).toBe('+8613812345678');
    expect(normalisePhone('Tel. (415) 234-0132 (office)', 'US')).toBe('+14152340132');
  });
  it('refuses numbers that are not valid, saying why', () => {
    expect(() => normalisePhone('12345', 'US')).toThrow('not a valid phone number');
    expect(() => normalisePhone('13812345678')).toThrow(/no default country/);
  });
});

describe('dates', () => {
  it.each([
    ['1980-01-02', undefined, '1980-01-02'],
    ['19800102', undefined, '1980-01-02'],
    ['02/01/1980', undefined, '1980-01-02'],
    ['01/02/1980', ['MM/DD/YYYY'] as const, '1980-01-02'],
    ['1980年1月2日', undefined, '1980-01-02'],
    ['２０００年２月２９日', undefined, '2000-02-29'],
    ['02.01.1980', undefined, '1980-01-02'],
  ])('reads %s', (value, formats, expected) => {
    expect(normaliseDate(value, formats ? [...formats] : undefined)).toBe(expected);
  });
  it.each(['1990-02-30', '19371233', '31/04/2001', '1900年2月29日', '2023-13-01'])('refuses the impossible date %s', (value) => {
    expect(() => normaliseDate(value)).toThrow('an impossible date');
  });
  it.each([
    ['1990-02-30', '1990-02'],
    ['19371233', '1937-12'],
    ['1985-00-00', '1985'],
    ['1985-03-00', '1985-03'],
    ['1985', '1985'],
    ['03/1985', '1985-03'],
    ['1985-07', '1985-07'],
    ['1985-07-04', '1985-07-04'],
  ])('keeps what is known of the birth date %s: %s', (value, expected) => {
    expect(normaliseDate(value, undefined, { partial: true })).toBe(expected);
  });
  it('refuses a partial date with nothing sound in it, even when partial dates are kept', () => {
    expect(() => normaliseDate('0000-13-40', undefined, { partial: true })).toThrow('an impossible date');
    expect(() => normaliseDate('13/1985', undefined, { partial: true })).toThrow('an impossible date');
    expect(() => normaliseDate('1985')).toThrow(/expected formats/);
  });
  it('says which formats it expected', () => {
    expect(() => normaliseDate('next tuesday')).toThrow(/expected formats \(YYYY-MM-DD/);
  });
  it('reads timestamps to UTC instants', () => {
    expect(normaliseTimestamp('2024-05-01 12:00')).toMatch(/^2024-05-01T\d{2}:00:00\.000Z$/);
    expect(normaliseTimestamp('2024-03-01T09:30:00+01:00')).toBe('2024-03-01T08:30:00.000Z');
  });
});

describe('places', () => {
  it.each([
    ['Germany', 'DE'],
    ['de', 'DE'],
    ['United States', 'US'],
    ['USA', 'US'],
    ['UK', 'GB'],
    ['中国', 'CN'],
    ['Côte d’Ivoire', 'CI'],
    ['south korea', 'KR'],
  ])('reads the country %s', (value, code) => {
    expect(normaliseCountry(value)).toBe(code);
  });
  it('refuses an unknown country', () => {
    expect(() => normaliseCountry('Atlantis')).toThrow(NormaliseError);
  });
  it('re-spaces postcodes and checks known shapes', () => {
    expect(normalisePostcode('sw1a1aa', 'GB')).toBe('SW1A 1AA');
    expect(normalisePostcode('021412208', 'US')).toBe('02141-2208');
    expect(normalisePostcode('200120', 'CN')).toBe('200120');
    expect(normalisePostcode(' k1a 0b1 ')).toBe('K1A 0B1');
    expect(() => normalisePostcode('12345', 'CN')).toThrow('not a CN postcode');
  });
});

describe('money', () => {
  it('reads amounts with symbols, codes and either decimal mark', () => {
    expect(normaliseMoney('￥25,000.00')).toEqual({ amount: 25000, currency: 'CNY' });
    expect(normaliseMoney('EUR 12.50')).toEqual({ amount: 12.5, currency: 'EUR' });
    expect(normaliseMoney('3.456,78', 'GBP', { decimal: ',' })).toEqual({ amount: 3456.78, currency: 'GBP' });
    expect(normaliseMoney('32000元')).toEqual({ amount: 32000, currency: 'CNY' });
    expect(parseDecimal('(1,200.50)')).toBe(-1200.5);
  });
  it('needs a currency and a number', () => {
    expect(() => normaliseMoney('12.50')).toThrow(/without a currency/);
    expect(() => normaliseMoney('abc', 'USD')).toThrow('not a number');
  });
});
