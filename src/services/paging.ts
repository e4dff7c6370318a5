/**
 * Paging of list endpoints. A page reads at most `limit + 1` documents (the extra one only says
 * whether there is more), so a request costs the same however large the collection grows; the
 * number of all matches is counted only when the caller asks for it (`count=true`).
 */
export interface PageRequest {
  limit: number;
  offset: number;
  /** Also count every match (a scan of the matching index range). */
  count?: boolean;
}

export interface PageInfo {
  limit: number;
  offset: number;
  hasMore: boolean;
  /** Present only when the caller asked for a count. */
  total?: number;
}

export async function readPage<T>(
  page: PageRequest,
  fetch: (skip: number, limit: number) => Promise<T[]>,
  count: () => Promise<number>,
): Promise<{ items: T[]; page: PageInfo }> {
  const [rows, total] = await Promise.all([fetch(page.offset, page.limit + 1), page.count ? count() : Promise.resolve(undefined)]);
  return {
    items: rows.slice(0, page.limit),
    page: { limit: page.limit, offset: page.offset, hasMore: rows.length > page.limit, ...(total === undefined ? {} : { total }) },
  };
}
