/** Deterministic synthetic exports for benchmarks: a Salesforce-shaped CSV stream of any size. */
import { Readable } from 'node:stream';
import { seededRandom } from '../src/match/train.js';

const given = ['John', 'Mary', 'Wei', 'María', 'Olivia', 'Jack', 'Priya', 'Ahmed', 'Sofia', 'Liam', 'Emma', 'Noah', 'Chloe', 'Lucas', 'Mia'];
const family = ['Smith', 'García', 'Zhang', 'Brown', 'Taylor', 'Sharma', 'Khan', 'Rossi', 'Müller', 'Wilson', 'Nguyen', 'Dubois', 'Kowalski', 'Silva'];
const cities = [['San Francisco', 'CA', '94105'], ['New York', 'NY', '10001'], ['Austin', 'TX', '73301'], ['Seattle', 'WA', '98101'], ['Boston', 'MA', '02108']];

/** A seeded PRNG, so every run maps the same rows. */
export const random = seededRandom;

export const salesforceHeader =
  'Id,Salutation,FirstName,MiddleName,LastName,Title,Email,Phone,MobilePhone,HomePhone,Birthdate,MailingStreet,MailingCity,MailingState,MailingPostalCode,MailingCountry,HasOptedOutOfEmail,AccountId,LastModifiedDate';

export function salesforceRow(i: number, rand: () => number): string {
  const pick = <T>(list: readonly T[]) => list[Math.floor(rand() * list.length)]!;
  const first = pick(given);
  const last = pick(family);
  const [city, state, zip] = pick(cities);
  const month = 1 + Math.floor(rand() * 12);
  const day = 1 + Math.floor(rand() * 28);
  const year = 1940 + Math.floor(rand() * 60);
  const phone = `(415) ${200 + Math.floor(rand() * 700)}-${String(Math.floor(rand() * 10000)).padStart(4, '0')}`;
  const mobile = rand() < 0.6 ? `+1 206 ${200 + Math.floor(rand() * 700)} ${String(Math.floor(rand() * 10000)).padStart(4, '0')}` : '';
  return [
    `0035g${String(i).padStart(10, '0')}`,
    rand() < 0.5 ? 'Mr.' : 'Ms.',
    first,
    '',
    last,
    'Customer',
    `${first}.${last}${i}@example.com`.toLowerCase(),
    phone,
    mobile,
    '',
    `${String(month).padStart(2, '0')}/${String(day).padStart(2, '0')}/${year}`,
    `${1 + (i % 999)} Market St`,
    city,
    state,
    zip,
    'United States',
    rand() < 0.1 ? 'true' : 'false',
    `0015g${String(i % 5000).padStart(10, '0')}`,
    '2024-03-01T09:30:00.000Z',
  ].join(',');
}

/** A CSV export of `rows` rows, produced as it is read. */
export function salesforceExport(rows: number, seed = 42): Readable {
  const rand = random(seed);
  let i = 0;
  return new Readable({
    read() {
      if (i === 0) this.push(`${salesforceHeader}\n`);
      let chunk = '';
      for (let n = 0; n < 1000 && i < rows; n += 1, i += 1) chunk += `${salesforceRow(i + 1, rand)}\n`;
      this.push(chunk || null);
      if (i >= rows && chunk) this.push(null);
    },
  });
}
