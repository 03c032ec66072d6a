import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { cliConfig, CliError } from '../runtime.js';
import { generateSigningKey, inspectConsentToken, mintConsentToken, parseDuration } from '../../consent/mint.js';
import { answerOf, exchangeClient, keyOption, urlOption, type ExchangeOptions, type RequestBody } from '../http.js';

const list = (value: string | undefined) => (value ? value.split(',').map((v) => v.trim()).filter(Boolean) : []);

function readJson(file: string, what: string): unknown {
  if (!existsSync(file)) throw new CliError(`no such file: ${file}`);
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    throw new CliError(`${file} is not JSON (expected ${what})`);
  }
}

/** Consent tools for grantors (keygen, register, mint, revoke) and grantees (inspect). */
export function registerConsent(program: Command): void {
  const consent = program.command('consent').description('consent tokens: make keys, sign and inspect tokens, register keys and revoke tokens');
  consent
    .command('keygen')
    .description('make a signing key pair: the private JWK goes to --out (owner-only), the public JWKS to stdout')
    .requiredOption('-o, --out <file>', 'where to write the private key (JWK)')
    .addOption(new Option('--alg <alg>', 'signature algorithm').choices(['EdDSA', 'ES256']).default('EdDSA'))
    .option('--kid <kid>', 'key id (default: date and thumbprint)')
    .option('--force', 'overwrite --out')
    .action(async (options: { out: string; alg: 'EdDSA' | 'ES256'; kid?: string; force?: boolean }) => {
      if (existsSync(options.out) && !options.force) throw new CliError(`${options.out} exists; pass --force to overwrite it`);
      const { privateJwk, publicJwk } = await generateSigningKey(options.alg, options.kid);
      writeFileSync(options.out, `${JSON.stringify(privateJwk, null, 2)}\n`, { mode: 0o600 });
      process.stderr.write(`wrote the private key ${String(privateJwk.kid)} to ${options.out}; keep it secret. Register the public key (stdout) with: cx consent register <jwks file>\n`);
      process.stdout.write(`${JSON.stringify({ keys: [publicJwk] }, null, 2)}\n`);
    });
  consent
    .command('register')
    .description('register your public keys (a JWKS file) on the exchange; keys left out are retired')
    .argument('<jwks>', 'JWKS file ({"keys": [...]}, public keys only) or one public JWK')
    .addOption(urlOption())
    .addOption(keyOption())
    .action(async (file: string, options: ExchangeOptions) => {
      const content = readJson(file, 'a JWKS') as Record<string, unknown>;
      // A single JWK is registered as a set of one.
      const jwks = content && typeof content === 'object' && 'kty' in content ? { keys: [content] } : content;
      const registered = await answerOf(exchangeClient(options).PUT('/v1/partners/me/jwks', { body: jwks as RequestBody<'/v1/partners/me/jwks', 'put'> }));
      const kids = registered.keys.map((k) => k.kid);
      process.stdout.write(`registered keys: ${kids.join(', ')}\n`);
    });
  consent
    .command('mint')
    .description('sign a consent token for a grantee (offline, with your private key)')
    .requiredOption('-k, --key <file>', 'your private signing key (JWK, from cx consent keygen)')
    .requiredOption('--grantor <partnerId>', 'your partner id (GET /v1/partners/me)')
    .requiredOption('--grantee <partnerId>', "the grantee's partner id")
    .requiredOption('--purpose <purpose>', 'purpose of processing, from the standard\'s vocabulary')
    .option('--fields <paths>', 'comma-separated field paths the grantee may see (e.g. name,birthDate,emails)', '')
    .option('--datasets <ids>', 'comma-separated dataset ids (default: all of yours)')
    .option('--actions <actions>', 'match, disclose or both', 'match,disclose')
    .option('--ttl <duration>', 'lifetime, e.g. 30d, 12h', '30d')
    .option('--lawful-basis <basis>', 'GDPR Art. 6 basis', 'legitimate_interests')
    .option('--min-grade <grade>', 'weakest match grade returned: certain, probable or possible')
    .option('--max-results <n>', 'most candidates per query', (v) => Number(v))
    .option('--grades-only', 'answers carry match grades only, no numeric scores')
    .option('--jti <id>', 'token id (default: a random UUID)')
    .option('--audience <id>', "the exchange's id (default: EXCHANGE_ID)")
    .action(async (options: Record<string, string | number | undefined>) => {
      const { token, claims } = await mintConsentToken({
        privateJwk: readJson(String(options.key), 'a private JWK'),
        grantor: String(options.grantor),
        grantee: String(options.grantee),
        audience: String(options.audience ?? cliConfig().EXCHANGE_ID),
        purpose: String(options.purpose),
        lawfulBasis: String(options.lawfulBasis),
        actions: list(String(options.actions)),
        datasets: list(options.datasets as string | undefined),
        fields: list(String(options.fields)),
        minGrade: options.minGrade as string | undefined,
        maxResults: options.maxResults as number | undefined,
        scores: options.gradesOnly ? false : undefined,
        ttlSeconds: parseDuration(String(options.ttl)),
        maxLifetimeSeconds: cliConfig().CONSENT_MAX_LIFETIME_DAYS * 86_400,
        jti: options.jti as string | undefined,
      });
      process.stderr.write(`consent token ${claims.jti}: ${claims.purpose}, expires ${new Date(claims.exp * 1000).toISOString()}\n`);
      process.stdout.write(`${token}\n`);
    });
  consent
    .command('inspect')
    .description('explain a consent token; with --jwks, check its signature')
    .argument('<token>', 'the token, or - to read it from stdin')
    .option('--jwks <file>', "the grantor's JWKS")
    .action(async (token: string, options: { jwks?: string }) => {
      const text = token === '-' ? readFileSync(0, 'utf8').trim() : token.trim();
      const jwks = options.jwks ? (readJson(options.jwks, 'a JWKS') as { keys: [] }) : undefined;
      const lines = await inspectConsentToken(text, { jwks, maxLifetimeSeconds: cliConfig().CONSENT_MAX_LIFETIME_DAYS * 86_400 });
      process.stdout.write(`${lines.join('\n')}\n`);
      if (lines.some((line) => line.startsWith('problems:') || line.startsWith('signature: NOT'))) process.exitCode = 2;
    });
  consent
    .command('revoke')
    .description('revoke a token you signed, by jti (effective at once)')
    .argument('<jti>', "the token's jti")
    .option('--reason <text>', 'why (kept with the revocation)')
    .addOption(urlOption())
    .addOption(keyOption())
    .action(async (jti: string, options: ExchangeOptions & { reason?: string }) => {
      const revoked = await answerOf(exchangeClient(options).POST('/v1/consents/revoke', { body: { jti, ...(options.reason ? { reason: options.reason } : {}) } }));
      process.stdout.write(`revoked ${revoked.jti} at ${revoked.revokedAt}\n`);
    });
}

