import type { Command } from 'commander';
import { everyPage } from '../../store/pages.js';
import { createPartner } from '../../services/create-partner.js';
import { listPartners } from '../../services/list-partners.js';
import { jsonOption, printTable } from '../output.js';
import { withOperator } from '../runtime.js';

export function registerPartners(program: Command): void {
  const partners = program.command('partners').description('register and list partner enterprises (operators, on the database)');
  partners
    .command('add')
    .description('register a partner')
    .argument('<slug>', 'short stable handle, e.g. acme-bank')
    .requiredOption('-n, --name <name>', 'display name')
    .action(async (slug: string, options: { name: string }) => {
      const partner = await withOperator((ctx) => createPartner({ ctx, input: { slug, name: options.name } }));
      process.stdout.write(`${partner.id}  ${partner.slug}  ${partner.name}\n`);
    });
  partners
    .command('list')
    .description('list partners')
    .addOption(jsonOption())
    .action(async (options: { json?: boolean }) => {
      const rows = await withOperator((ctx) => everyPage((page) => listPartners({ ctx, page })));
      printTable(rows, ['id', 'slug', 'name', 'createdAt'], options);
    });
}
