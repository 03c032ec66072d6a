import type { Command } from 'commander';
import { cliConfig } from '../runtime.js';
import { migrate } from '../../store/migrate.js';
import { describeDatabase, openDatabase } from '../../store/open.js';

export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .description('apply the pending database migrations (the service also does this at start-up)')
    .action(async () => {
      const config = cliConfig();
      const db = await openDatabase(config);
      try {
        const applied = await migrate(db);
        process.stdout.write(
          applied.length ? `applied ${applied.join(', ')} on ${describeDatabase(config)}\n` : `up to date (${describeDatabase(config)})\n`,
        );
      } finally {
        await db.close();
      }
    });
}
