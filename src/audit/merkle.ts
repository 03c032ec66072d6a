/**
 * The RFC 6962 / RFC 9162 Merkle tree: leaf and node hashes, the root of any size, inclusion and
 * consistency proofs, and their verification (RFC 9162 §2.1.3.2 and §2.1.4.2). Sizes and indices
 * are BigInt: a log may pass 2^53 entries. Pure: node hashes come from a `NodeReader` (tiles, or an
 * array in the tests), so a proof reads O(log n) stored hashes and never recomputes the tree.
 */
import { hash } from 'node:crypto';

export type Hash = Uint8Array;

// One-shot hashing: about twice as fast as createHash for inputs this small, and verify hashes
// every leaf and node of the log.
const sha256 = (data: Uint8Array | string): Hash => new Uint8Array(hash('sha256', data, 'buffer'));

const LEAF = Uint8Array.of(0x00);
const NODE = Uint8Array.of(0x01);

export const emptyRoot = (): Hash => sha256(new Uint8Array());
export const leafHash = (entry: Uint8Array): Hash => sha256(Buffer.concat([LEAF, entry]));
/** The leaf hash of a text entry, its UTF-8 bytes (as TextEncoder writes them). */
export const textLeafHash = (entry: string): Hash => sha256(`\0${entry}`);
export const nodeHash = (left: Hash, right: Hash): Hash => sha256(Buffer.concat([NODE, left, right]));

/**
 * The hash of the complete subtree of height `level` at position `n` (covering leaves
 * n·2^level … (n+1)·2^level − 1). Only subtrees wholly inside the tree are ever asked for.
 */
export type NodeReader = (level: number, n: bigint) => Promise<Hash>;

/** The largest power of two smaller than n (n > 1). */
function splitPoint(n: bigint): bigint {
  let k = 1n;
  while (k << 1n < n) k <<= 1n;
  return k;
}

function log2Exact(n: bigint): number | undefined {
  if (n <= 0n || (n & (n - 1n)) !== 0n) return undefined;
  let level = 0;
  while (1n << BigInt(level) < n) level += 1;
  return level;
}

/** MTH(D[lo:hi]) for the ranges RFC 6962's recursion produces (lo aligned to the range's split). */
async function rangeHash(read: NodeReader, lo: bigint, hi: bigint): Promise<Hash> {
  const width = hi - lo;
  const level = log2Exact(width);
  if (level !== undefined && lo % width === 0n) return read(level, lo >> BigInt(level));
  const k = splitPoint(width);
  return nodeHash(await rangeHash(read, lo, lo + k), await rangeHash(read, lo + k, hi));
}

export async function treeRoot(read: NodeReader, size: bigint): Promise<Hash> {
  return size === 0n ? emptyRoot() : rangeHash(read, 0n, size);
}

/** PATH(m, D[n]) of RFC 6962 §2.1.1: the audit path of leaf `index` in the tree of `size`. */
export async function inclusionProof(read: NodeReader, index: bigint, size: bigint): Promise<Hash[]> {
  if (index < 0n || index >= size) throw new RangeError(`index ${index} is outside a tree of size ${size}`);
  const path = async (m: bigint, lo: bigint, hi: bigint): Promise<Hash[]> => {
    if (hi - lo === 1n) return [];
    const k = splitPoint(hi - lo);
    return m < k
      ? [...(await path(m, lo, lo + k)), await rangeHash(read, lo + k, hi)]
      : [...(await path(m - k, lo + k, hi)), await rangeHash(read, lo, lo + k)];
  };
  return path(index, 0n, size);
}

/** PROOF(m, D[n]) of RFC 6962 §2.1.2: that the tree of `from` leaves is a prefix of the tree of `to`. */
export async function consistencyProof(read: NodeReader, from: bigint, to: bigint): Promise<Hash[]> {
  if (from < 0n || from > to) throw new RangeError(`cannot prove size ${from} against size ${to}`);
  if (from === 0n || from === to) return [];
  const subproof = async (m: bigint, lo: bigint, hi: bigint, whole: boolean): Promise<Hash[]> => {
    const n = hi - lo;
    if (m === n) return whole ? [] : [await rangeHash(read, lo, hi)];
    const k = splitPoint(n);
    return m <= k
      ? [...(await subproof(m, lo, lo + k, whole)), await rangeHash(read, lo + k, hi)]
      : [...(await subproof(m - k, lo + k, hi, false)), await rangeHash(read, lo, lo + k)];
  };
  return subproof(from, 0n, to, true);
}

/** Whether two hashes are the same bytes. */
/** A hash from its canonical base64 (44 characters), or undefined when it is not one. */
export function parseHash(b64: string): Hash | undefined {
  const bytes = Buffer.from(b64, 'base64');
  return bytes.length === 32 && bytes.toString('base64') === b64 ? new Uint8Array(bytes) : undefined;
}

export const sameHash = (a: Uint8Array, b: Uint8Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);

/**
 * The walk both RFC 9162 verifications share, from node `fn` up to the last node `sn`: each proof
 * hash is a left sibling (or, at the right edge, the subtree beside) or a right one. Returns `sn`
 * at the end (0: the path reached the root exactly), or undefined when the path is too long.
 */
function walk(fn: bigint, sn: bigint, path: Hash[], left: (hash: Hash) => void, right: (hash: Hash) => void): bigint | undefined {
  for (const p of path) {
    if (sn === 0n) return undefined;
    if ((fn & 1n) === 1n || fn === sn) {
      left(p);
      while ((fn & 1n) === 0n && fn !== 0n) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else {
      right(p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  return sn;
}

/** RFC 9162 §2.1.3.2: does `proof` put the leaf with `hash` at `index` under `root` of `size`? */
export function verifyInclusion(hash: Hash, index: bigint, size: bigint, proof: Hash[], root: Hash): boolean {
  if (index < 0n || index >= size) return false;
  let r = hash;
  const end = walk(index, size - 1n, proof, (p) => (r = nodeHash(p, r)), (p) => (r = nodeHash(r, p)));
  return end === 0n && sameHash(r, root);
}

/** RFC 9162 §2.1.4.2: does `proof` show the tree (`size1`, `root1`) is a prefix of (`size2`, `root2`)? */
export function verifyConsistency(size1: bigint, size2: bigint, proof: Hash[], root1: Hash, root2: Hash): boolean {
  if (size1 < 0n || size2 < size1) return false;
  if (size1 === size2) return proof.length === 0 && sameHash(root1, root2);
  if (size1 === 0n) return proof.length === 0;
  if (proof.length === 0) return false;
  // When size1 is a power of two its root is the first node of the path.
  const path = log2Exact(size1) !== undefined ? [root1, ...proof] : proof;
  let fn = size1 - 1n;
  let sn = size2 - 1n;
  while ((fn & 1n) === 1n) {
    fn >>= 1n;
    sn >>= 1n;
  }
  let fr = path[0]!;
  let sr = path[0]!;
  const end = walk(fn, sn, path.slice(1), (c) => ((fr = nodeHash(c, fr)), (sr = nodeHash(c, sr))), (c) => (sr = nodeHash(sr, c)));
  return end === 0n && sameHash(fr, root1) && sameHash(sr, root2);
}

/**
 * The root of every prefix of a log as its leaves stream by: a stack of complete subtrees (a
 * compact range from 0, RFC 6962's split), so a million leaves need only log2 hashes of memory.
 * Its saved form lets a monitor resume where it stopped.
 */
export class CompactRange {
  private constructor(
    private stack: { level: number; hash: Hash }[],
    public size: bigint,
  ) {}

  static empty(): CompactRange {
    return new CompactRange([], 0n);
  }

  /** From a saved form; throws when the hashes cannot be the compact range of `size` leaves. */
  static restore(saved: { size: string; hashes: string[] }): CompactRange {
    const size = BigInt(saved.size);
    const levels: number[] = [];
    for (let level = 63; level >= 0; level -= 1) if ((size >> BigInt(level)) & 1n) levels.push(level);
    if (levels.length !== saved.hashes.length) throw new Error(`a compact range of ${size} leaves has ${levels.length} hashes, not ${saved.hashes.length}`);
    const stack = saved.hashes.map((b64, i) => {
      const hash = parseHash(b64);
      if (!hash) throw new Error('a compact range hash is not a base64 SHA-256 hash');
      return { level: levels[i]!, hash };
    });
    return new CompactRange(stack, size);
  }

  save(): { size: string; hashes: string[] } {
    return { size: String(this.size), hashes: this.stack.map((node) => Buffer.from(node.hash).toString('base64')) };
  }

  add(leaf: Hash): void {
    let node = { level: 0, hash: leaf };
    while (this.stack.length && this.stack[this.stack.length - 1]!.level === node.level) {
      const left = this.stack.pop()!;
      node = { level: node.level + 1, hash: nodeHash(left.hash, node.hash) };
    }
    this.stack.push(node);
    this.size += 1n;
  }

  root(): Hash {
    if (!this.stack.length) return emptyRoot();
    let hash = this.stack[this.stack.length - 1]!.hash;
    for (let i = this.stack.length - 2; i >= 0; i -= 1) hash = nodeHash(this.stack[i]!.hash, hash);
    return hash;
  }
}

/** A NodeReader over leaf hashes in memory (verifiers recomputing a whole log, tests). */
export function memoryTree(leaves: Hash[]): NodeReader {
  const levels: Hash[][] = [leaves];
  return async (level, n) => {
    while (levels.length <= level) {
      const below = levels[levels.length - 1]!;
      const next: Hash[] = [];
      for (let i = 0; i + 1 < below.length; i += 2) next.push(nodeHash(below[i]!, below[i + 1]!));
      levels.push(next);
    }
    const hash = levels[level]![Number(n)];
    if (!hash) throw new RangeError(`no complete subtree at level ${level}, position ${n}`);
    return hash;
  };
}
