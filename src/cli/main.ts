/** `cx`: the exchange's command-line tool. */
import { Command, CommanderError } from 'commander';
import { registerCompletion } from './commands/completion.js';
import { describeFailure } from './failure.js';

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

type Register = (program: Command) => void;
/**
 * Each command's module, loaded only when asked for: loading every command (the service, the
 * store, the matcher, the audit log) cost about 0.6 s at every start, whichever command ran.
 * Help, a version, `completion` or an unknown command loads them all, in this order.
 */
const commandModules: [string[], () => Promise<Register>][] = [
  [['serve'], async () => (await import('./commands/serve.js')).registerServe],
  [['migrate'], async () => (await import('./commands/migrate.js')).registerMigrate],
  [['partners'], async () => (await import('./commands/partners.js')).registerPartners],
  [['keys'], async () => (await import('./commands/keys.js')).registerKeys],
  [['standards'], async () => (await import('./commands/standards.js')).registerStandards],
  [['openapi'], async () => (await import('./commands/openapi.js')).registerOpenApi],
  [['mappings'], async () => (await import('./commands/mappings.js')).registerMappings],
  [['map'], async () => (await import('./commands/map.js')).registerMap],
  [['upload'], async () => (await import('./commands/upload.js')).registerUpload],
  [['datasets', 'uploads'], async () => (await import('./commands/datasets.js')).registerDatasets],
  [['consent'], async () => (await import('./commands/consent.js')).registerConsent],
  [['link', 'dedupe', 'eval', 'model'], async () => (await import('./commands/link.js')).registerLink],
  [['audit'], async () => (await import('./commands/audit.js')).registerAudit],
];
const asked = process.argv.slice(2).find((arg) => !arg.startsWith('-'));
const wanted = commandModules.filter(([names]) => asked !== undefined && names.includes(asked));
for (const [, load] of wanted.length ? wanted : commandModules) (await load())(program);
// Light, and it describes whatever was loaded: all of it, since `completion` is none of the above.
registerCompletion(program);

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
