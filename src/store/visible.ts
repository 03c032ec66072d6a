/** Which stored records readers see. */

/**
 * The condition that hides a loading dataset's records from readers: `alias` is the records' table
 * and `partner` the SQL of their partner id (a parameter or a column).
 */
export function visibleDataset(alias: string, partner: string): string {
  const prefix = alias ? `${alias}.` : '';
  return `${prefix}dataset_id NOT IN (SELECT l.id FROM datasets l WHERE l.partner_id = ${partner} AND l.loading_upload_id IS NOT NULL)`;
}
