// The admin listings that grow with the registry (instances, pods) go a page of instance records
// at a time, in the order of their Secrets' names, and hand Kubernetes' continue token on as
// theirs: memory and answers follow the page, not the registry.

/** Instances per page unless the caller asks for fewer (or more, up to the maximum). */
export const ADMIN_PAGE = { default: 500, max: 1000 };

/** Which page: `continue` comes from the previous page. */
export interface PageRequest {
  limit?: number;
  continue?: string;
}

/** Every page of a listing, one after another. */
export async function* everyPage<P extends { continue?: string }>(list: (page: PageRequest) => Promise<P>, limit?: number): AsyncGenerator<P> {
  let next: string | undefined;
  do {
    const page = await list({ ...(limit ? { limit } : {}), ...(next ? { continue: next } : {}) });
    yield page;
    next = page.continue;
  } while (next);
}
