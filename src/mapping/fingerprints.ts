/**
 * Remembers which strings (source ids, identities) an input has shown, and on which row, in typed
 * arrays off the JavaScript heap: 21 to 43 bytes a string, where a Map of strings costs about a
 * hundred and makes every garbage collection walk it. A string is kept as a 96-bit fingerprint
 * under random seeds: two different ids would need to agree on all 96 bits to be taken for one
 * (odds about 1 in 10^16 for a file of 4 million ids), and nobody can craft such a pair ahead.
 */
import { randomBytes } from 'node:crypto';

const EMPTY = 0;

/** murmur3's finaliser: every input bit reaches every output bit. */
function mix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

export class FingerprintTable {
  private readonly seeds: Uint32Array;
  private capacity: number;
  private fingerprints: Uint32Array;
  /** The value stored with each fingerprint, plus one (0 marks an empty slot). */
  private values: Uint32Array;
  private count = 0;
  private a = 0;
  private b = 0;
  private c = 0;

  constructor(initialCapacity = 1 << 16) {
    this.seeds = new Uint32Array(randomBytes(12).buffer);
    this.capacity = 1 << Math.ceil(Math.log2(Math.max(initialCapacity, 16)));
    this.fingerprints = new Uint32Array(this.capacity * 3);
    this.values = new Uint32Array(this.capacity);
  }

  get size(): number {
    return this.count;
  }

  /** The value stored with `text` if it was seen before; otherwise stores `value` and returns undefined. */
  firstOrAdd(text: string, value: number): number | undefined {
    this.fingerprint(text);
    const mask = this.capacity - 1;
    for (let slot = this.a & mask; ; slot = (slot + 1) & mask) {
      const stored = this.values[slot]!;
      if (stored === EMPTY) break;
      const at = slot * 3;
      if (this.fingerprints[at] === this.a && this.fingerprints[at + 1] === this.b && this.fingerprints[at + 2] === this.c) return stored - 1;
    }
    // Up to three quarters full: linear probing still finds a slot in a few steps, and a 1 GB
    // input needs half the memory it would at half full.
    if ((this.count + 1) * 4 > this.capacity * 3) this.grow();
    this.insert(this.a, this.b, this.c, value + 1);
    this.count += 1;
    return undefined;
  }

  private fingerprint(text: string): void {
    let a = this.seeds[0]!;
    let b = this.seeds[1]!;
    let c = this.seeds[2]!;
    for (let i = 0; i < text.length; i += 1) {
      const ch = text.charCodeAt(i);
      a = Math.imul(a ^ ch, 0x9e3779b1);
      b = Math.imul(b ^ ch, 0x85ebca77);
      c = Math.imul(c ^ ch, 0xc2b2ae3d);
    }
    const length = text.length;
    this.a = mix(a ^ length);
    this.b = mix(b ^ Math.imul(this.a, 0x27d4eb2f));
    this.c = mix(c ^ Math.imul(this.b, 0x165667b1));
  }

  private insert(a: number, b: number, c: number, storedValue: number): void {
    const mask = this.capacity - 1;
    let slot = a & mask;
    while (this.values[slot] !== EMPTY) slot = (slot + 1) & mask;
    this.fingerprints[slot * 3] = a;
    this.fingerprints[slot * 3 + 1] = b;
    this.fingerprints[slot * 3 + 2] = c;
    this.values[slot] = storedValue;
  }

  private grow(): void {
    const { fingerprints, values } = this;
    this.capacity *= 2;
    this.fingerprints = new Uint32Array(this.capacity * 3);
    this.values = new Uint32Array(this.capacity);
    for (let slot = 0; slot < values.length; slot += 1) {
      if (values[slot] !== EMPTY) this.insert(fingerprints[slot * 3]!, fingerprints[slot * 3 + 1]!, fingerprints[slot * 3 + 2]!, values[slot]!);
    }
  }
}
