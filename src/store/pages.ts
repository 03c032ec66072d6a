/**
 * Keyset pages of a list: the cursor is the id of the last item of the previous page, and the
 * next page starts after that item's place in the list's order (looked up by id, in the caller's
 * scope, so a cursor from another partner's list finds an empty page, never their rows).
 */
export interface PageRequest {
  /** The id of the last item of the previous page (its nextCursor). */
  after?: string;
  limit: number;
}

export interface Page<T> {
  items: T[];
  /** Where the next page starts, or null on the last page. */
  nextCursor: string | null;
}

/** A page from `limit + 1` rows: the extra row only says there is more. */
export function pageOf<T extends { id: string }>(rows: T[], limit: number): Page<T> {
  const items = rows.slice(0, limit);
  return { items, nextCursor: rows.length > limit ? items[items.length - 1]!.id : null };
}

/** Every item of a list, page after page (for the operator's CLI, which prints them all). */
export async function everyPage<T extends { id: string }>(pageAt: (page: PageRequest) => Promise<Page<T>>, limit = 1000): Promise<T[]> {
  const items: T[] = [];
  for (let after: string | undefined; ; ) {
    const page = await pageAt({ after, limit });
    items.push(...page.items);
    if (page.nextCursor === null) return items;
    after = page.nextCursor;
  }
}
