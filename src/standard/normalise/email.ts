import { NormaliseError } from './error.js';

// Pragmatic address shape (RFC 5322 allows more, mail systems accept less): local@domain.tld.
const emailShape = /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;

/** Trims, strips a "mailto:" and angle brackets, lower-cases the domain (and the local part: no mail system we see is case-sensitive). */
export function normaliseEmail(value: string): string {
  const cleaned = value.trim().replace(/^mailto:/i, '').replace(/^<(.*)>$/, '$1').trim().toLowerCase();
  if (cleaned.length > 254 || !emailShape.test(cleaned) || cleaned.includes('..')) {
    throw new NormaliseError('not an email address');
  }
  return cleaned;
}
