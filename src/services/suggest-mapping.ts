import { AppError } from '../errors.js';
import { decodeHead } from '../mapping/readers.js';
import { suggestFromText, SuggestError, type Suggestion } from '../mapping/suggest.js';
import type { ServiceContext } from './context.js';
import { requirePartner } from './datasets.js';

/** Drafts a mapping from the first rows of a partner's export (its bytes, in any detected encoding). */
export function suggestMappingFor({ ctx, name, bytes }: { ctx: ServiceContext; name: string; bytes: Buffer }): Suggestion {
  requirePartner(ctx);
  try {
    return suggestFromText(name, decodeHead(bytes));
  } catch (error) {
    if (error instanceof SuggestError) throw new AppError('bad_request', `No mapping can be drafted: ${error.message}.`);
    throw error;
  }
}
