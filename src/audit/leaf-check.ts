/**
 * The hashing half of fsck: every entry rehashed into its leaf, compared with the stored tile, and
 * added to the rebuilt tree, whose root must be each signed checkpoint's at that size. Pure, so it
 * runs in the verifying thread for small logs and in a worker beside the database for large ones
 * (leaf-check-worker.ts).
 */
import { CompactRange, sameHash, textLeafHash } from './merkle.js';

export interface LeafProblem {
  index: string;
  problem: string;
}

/** A page of entries: contiguous from `from`, or at the given `indices` (a page with gaps). */
export interface LeafPage {
  from: string;
  indices?: string[];
  /** The entries joined by "\n" (JCS writes no raw newline). */
  entries: string;
  /** The stored level-0 tiles that cover the page, by tile index. */
  tiles: [string, Uint8Array][];
}

export class LeafCheck {
  private readonly tree = CompactRange.empty();
  private readonly roots: Map<bigint, Uint8Array>;
  readonly problems: LeafProblem[] = [];

  /** `checkpoints`: each signed size with its root (base64). */
  constructor(
    checkpoints: [string, string][],
    private readonly tileWidth: number,
  ) {
    this.roots = new Map(checkpoints.map(([size, root]) => [BigInt(size), new Uint8Array(Buffer.from(root, 'base64'))]));
    this.checkRoot();
  }

  get size(): bigint {
    return this.tree.size;
  }

  add(page: LeafPage): void {
    const entries = page.entries.split('\n');
    this.addSlice(page, entries, new Map(page.tiles), 0, entries.length);
  }

  /** Entries [start, end) of a page, already split. */
  addSlice(page: LeafPage, entries: string[], tiles: Map<string, Uint8Array>, start: number, end: number): void {
    const width = BigInt(this.tileWidth);
    for (let i = start; i < end; i += 1) {
      const index = page.indices ? BigInt(page.indices[i]!) : BigInt(page.from) + BigInt(i);
      const leaf = textLeafHash(entries[i]!);
      const offset = Number(index % width);
      const stored = tiles.get(String(index / width))?.subarray(offset * 32, offset * 32 + 32);
      if (!stored || stored.length !== 32 || !sameHash(stored, leaf)) this.problems.push({ index: String(index), problem: "the entry's leaf hash differs from the stored tile" });
      this.tree.add(leaf);
      this.checkRoot();
    }
  }

  private checkRoot(): void {
    const root = this.roots.get(this.tree.size);
    if (root && !sameHash(this.tree.root(), root)) {
      this.problems.push({ index: String(this.tree.size - 1n), problem: `the log's first ${this.tree.size} entries do not hash to the root of the checkpoint of that size` });
    }
  }
}

