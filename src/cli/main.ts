/** `cx`: the exchange's command-line tool. */
import { Command, CommanderError } from 'commander';
import { registerAudit } from './commands/audit.js';
import { registerConsent } from './commands/consent.js';
import { registerLink } from './commands/link.js';
import { registerKeys } from './commands/keys.js';
import { registerMap } from './commands/map.js';
import { registerMappings } from './commands/mappings.js';
import { registerMigrate } from './commands/migrate.js';
import { registerPartners } from './commands/partners.js';
import { registerServe } from './commands/serve.js';
import { registerOpenApi } from './commands/openapi.js';
import { registerStandards } from './commands/standards.js';
import { registerUpload } from './commands/upload.js';
import { describeFailure } from './runtime.js';

// Output piped into `head` and the like: stop quietly when the reader goes away.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

const program = new Command('cx')
  .description('Customer Exchange: exchange and match customer data between enterprises under signed consent')
  .version('0.1.0')
  // Commander's own error lines ("error: …", then usage) are replaced by the one `cx:` line below.
  .configureOutput({ outputError: () => {} })
  .exitOverride();

registerServe(program);
registerMigrate(program);
registerPartners(program);
registerKeys(program);
registerStandards(program);
registerOpenApi(program);
registerMappings(program);
registerMap(program);
registerUpload(program);
registerConsent(program);
registerLink(program);
registerAudit(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // Help and version were printed as asked; anything else is a usage mistake, told in one line.
    if (error.exitCode !== 0 && !['commander.helpDisplayed', 'commander.version', 'commander.help'].includes(error.code)) {
      process.stderr.write(`cx: ${error.message.replace(/^error:\s*/, '').replace(/\s*\n\s*/g, ' ')} (see cx --help)\n`);
    }
    process.exitCode = error.exitCode;
  } else {
    const { message, exitCode } = describeFailure(error);
    process.stderr.write(`cx: ${message}\n`);
    process.exitCode = exitCode;
  }
}
