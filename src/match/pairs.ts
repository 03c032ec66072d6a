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
