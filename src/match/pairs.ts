/**
 * Candidate pairs as positions in two lists of record ids. A linkage of 100k × 100k has 2.5M
 * candidates: as objects of two id strings each pair cost an allocation, and comparing it two
 * lookups by id (a fifth of the comparing thread's time); as positions a pair is 8 bytes and its
 * records are found by index.
 */
export interface PairList {
  /** Position → record id, for each side (within one dataset, the same list twice). */
  leftIds: readonly string[];
  rightIds: readonly string[];
  /** Pair i joins leftIds[left[i]] and rightIds[right[i]]. */
  left: Int32Array<ArrayBuffer>;
  right: Int32Array<ArrayBuffer>;
}

export interface IdPair {
  leftId: string;
  rightId: string;
}

export const pairCount = (list: PairList) => list.left.length;

export const pairAt = (list: PairList, i: number): IdPair => ({ leftId: list.leftIds[list.left[i]!]!, rightId: list.rightIds[list.right[i]!]! });

/** The pairs as objects of ids (for tests and small lists). */
export function idPairsOf(list: PairList): IdPair[] {
  return Array.from({ length: pairCount(list) }, (_, i) => pairAt(list, i));
}

/** A list of pairs given by their ids. */
export function pairListOf(pairs: readonly IdPair[]): PairList {
  const positions = () => {
    const ids: string[] = [];
    const at = new Map<string, number>();
    const of = (id: string) => {
      let position = at.get(id);
      if (position === undefined) at.set(id, (position = ids.push(id) - 1));
      return position;
    };
    return { ids, of };
  };
  const left = positions();
  const right = positions();
  return {
    left: Int32Array.from(pairs, (pair) => left.of(pair.leftId)),
    right: Int32Array.from(pairs, (pair) => right.of(pair.rightId)),
    leftIds: left.ids,
    rightIds: right.ids,
  };
}

/** Pairs [from, to) of a list, on the same id lists. */
export const slicePairs = (list: PairList, from: number, to = pairCount(list)): PairList => ({ ...list, left: list.left.slice(from, to), right: list.right.slice(from, to) });

/** The pairs for which `keep(leftPosition, rightPosition)` holds; the list itself when all do. */
export function filterPairs(list: PairList, keep: (left: number, right: number) => boolean): PairList {
  const kept: number[] = [];
  for (let i = 0; i < pairCount(list); i += 1) if (keep(list.left[i]!, list.right[i]!)) kept.push(i);
  if (kept.length === pairCount(list)) return list;
  return { ...list, left: Int32Array.from(kept, (i) => list.left[i]!), right: Int32Array.from(kept, (i) => list.right[i]!) };
}

/** A growing list of positions, laid out as a PairList once complete. */
export class PairListBuilder {
  private left: Int32Array<ArrayBuffer> = new Int32Array(1024);
  private right: Int32Array<ArrayBuffer> = new Int32Array(1024);
  private count = 0;

  add(left: number, right: number): void {
    if (this.count === this.left.length) {
      const grow = (from: Int32Array<ArrayBuffer>) => {
        const to = new Int32Array(from.length * 2);
        to.set(from);
        return to;
      };
      this.left = grow(this.left);
      this.right = grow(this.right);
    }
    this.left[this.count] = left;
    this.right[this.count] = right;
    this.count += 1;
  }

  build(leftIds: readonly string[], rightIds: readonly string[]): PairList {
    return { leftIds, rightIds, left: this.left.slice(0, this.count), right: this.right.slice(0, this.count) };
  }
}

/**
 * Pairs sent as big-endian int32 couples (left position, right position), perhaps repeated (the
 * database's bytea of int4send): each pair once, ordered by left then right. Deduplicated here
 * rather than by the database's UNION, whose sort of 3.1M rows took 1.2–1.9 s of 100k × 100k's
 * blocking; grouped by left by counting, then each record's few sorted.
 */
export function distinctPairsOf(bytes: Uint8Array, leftIds: readonly string[], rightIds: readonly string[]): PairList {
  if (bytes.byteLength % 8 !== 0) throw new Error('pair positions of a length not a multiple of 8');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = bytes.byteLength / 8;
  const starts = new Int32Array(leftIds.length + 1);
  for (let k = 0; k < count; k += 1) {
    const left = view.getInt32(k * 8);
    const right = view.getInt32(k * 8 + 4);
    if (!(left >= 0 && left < leftIds.length && right >= 0 && right < rightIds.length)) throw new Error('a pair position outside its side');
    starts[left + 1]! += 1;
  }
  for (let left = 0; left < leftIds.length; left += 1) starts[left + 1]! += starts[left]!;
  const next = starts.slice(0, leftIds.length);
  const rights = new Int32Array(count);
  for (let k = 0; k < count; k += 1) rights[next[view.getInt32(k * 8)]!++] = view.getInt32(k * 8 + 4);
  const pairs = new PairListBuilder();
  for (let left = 0; left < leftIds.length; left += 1) {
    const group = rights.subarray(starts[left]!, starts[left + 1]!).sort();
    for (let j = 0; j < group.length; j += 1) if (j === 0 || group[j] !== group[j - 1]) pairs.add(left, group[j]!);
  }
  return pairs.build(leftIds, rightIds);
}

/**
 * Ids in code-unit order, the same on every machine and as the database's "C" collation for ASCII
 * ids: localeCompare follows the locale, so ties between equal weights were broken differently
 * from one machine to the next.
 */
export const compareIds = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
