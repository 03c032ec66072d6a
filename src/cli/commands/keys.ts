import type { Command } from 'commander';
import { everyPage } from '../../store/pages.js';
import { createApiKey } from '../../services/create-api-key.js';
import { listApiKeys } from '../../services/list-api-keys.js';
import { revokeApiKey } from '../../services/revoke-api-key.js';
import type { Role } from '../../store/api-keys.js';
import { CliError, jsonOption, printTable } from '../output.js';
import { withOperator } from '../runtime.js';

export function registerKeys(program: Command): void {
  const keys = program.command('keys').description('create, list and revoke API keys (operators, on the database)');
  keys
    .command('create')
    .description('create a key; it is printed once and never stored')
    .option('--partner <partner>', 'partner id or slug (for partner keys)')
    .option('--role <role>', 'partner, auditor or admin', 'partner')
    .option('-n, --name <name>', 'what the key is for', 'cli')
    .action(async (options: { partner?: string; role: string; name: string }) => {
      if (!['partner', 'auditor', 'admin'].includes(options.role)) throw new CliError(`--role must be partner, auditor or admin, not "${options.role}"`);
      const { apiKey, key } = await withOperator((ctx) =>
        createApiKey({ ctx, input: { name: options.name, role: options.role as Role, partner: options.partner } }),
      );
      process.stderr.write(`created ${apiKey.role} key ${apiKey.id}; store it now, it is not shown again:\n`);
      process.stdout.write(`${key}\n`);
    });
  keys
    .command('list')
    .description('list keys (never the keys themselves)')
    .option('--partner <partner>', 'only this partner\'s keys')
    .addOption(jsonOption())
    .action(async (options: { partner?: string; json?: boolean }) => {
      const rows = await withOperator((ctx) => everyPage((page) => listApiKeys({ ctx, partner: options.partner, page })));
      printTable(rows, ['id', 'role', 'partnerId', 'name', 'prefix', 'createdAt', 'lastUsedAt', 'revokedAt'], options);
    });
  keys
    .command('revoke')
    .description('revoke a key at once')
    .argument('<keyId>', 'the key\'s id (from "cx keys list")')
    .action(async (keyId: string) => {
      const revoked = await withOperator((ctx) => revokeApiKey({ ctx, keyId }));
      process.stdout.write(`revoked ${revoked.id} at ${revoked.revokedAt?.toISOString()}\n`);
    });
}
