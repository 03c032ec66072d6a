/** The consent token's published description (standards/consent/v1/README.md), generated from the code that enforces it. */
import { purposePolicies } from '../standard/code-lists.js';
import { CONSENT_TOKEN_TYPE, consentAlgorithms, consentClaimsJsonSchema } from './token.js';
import { denialReasons } from './verify.js';

type Node = { description?: string; type?: string; enum?: unknown[]; properties?: Record<string, Node>; items?: Node; anyOf?: Node[]; default?: unknown };

function typeOf(node: Node): string {
  if (node.enum) return node.enum.map((v) => `\`${String(v)}\``).join(' \\| ');
  if (node.anyOf) return node.anyOf.map(typeOf).join(' or ');
  if (node.type === 'array') return `array of ${node.items ? typeOf(node.items) : 'values'}`;
  return String(node.type ?? 'any');
}

export function consentReadmeMarkdown(): string {
  const schema = consentClaimsJsonSchema() as Node;
  const claims = Object.entries(schema.properties ?? {}).map(([name, node]) => `| \`${name}\` | ${typeOf(node)} | ${node.description ?? ''} |`);
  const detail = schema.properties?.authorization_details?.items?.properties ?? {};
  const detailRows = Object.entries(detail).map(
    ([name, node]) => `| \`${name}\` | ${typeOf(node)} | ${node.description ?? ''}${node.default !== undefined ? ` Default \`${JSON.stringify(node.default)}\`.` : ''} |`,
  );
  const policies = Object.entries(purposePolicies).map(([purpose, policy]) => `| \`${purpose}\` | ${policy === 'opt_in' ? 'opt-in' : 'opt-out'} |`);
  return [
    '# Consent token, version 1',
    '',
    '<!-- Generated from src/consent by `npm run standards:generate`; do not edit by hand. -->',
    '',
    "A consent token is how a partner (the **grantor**) lets another partner (the **grantee**) match against its customer records and see parts of them, for one purpose, until a time. No record crosses from one partner to another without one. The claims' machine-readable form is [`claims.schema.json`](claims.schema.json) (JSON Schema 2020-12).",
    '',
    '## Form',
    '',
    `- JWS compact serialisation, at most 8 KiB. Protected header: \`alg\` ${consentAlgorithms.map((a) => `\`${a}\``).join(' or ')}, \`typ: "${CONSENT_TOKEN_TYPE}"\`, \`kid\` naming one of the grantor's registered keys.`,
    "- The grantor registers its public keys as a JWKS with `PUT /v1/partners/me/jwks` (Ed25519 `OKP` or P-256 `EC`, public parts only, up to 10 `kid`s so keys rotate). A new JWKS replaces the old: tokens signed by a key left out stop verifying.",
    '- The grantee sends the token in the `Consent-Token` header, with its own API key in `Authorization` and the purpose of the request.',
    '- `cx consent keygen`, `cx consent mint` and `cx consent inspect` make keys, sign tokens and explain them; `POST /v1/consents/verify` checks a token as a request would.',
    '',
    '## Claims',
    '',
    '| claim | type | meaning |',
    '|---|---|---|',
    ...claims,
    '',
    '### `authorization_details[0]` (RFC 9396 style)',
    '',
    '| member | type | meaning |',
    '|---|---|---|',
    ...detailRows,
    '',
    'Field paths are those of the [customer field dictionary](../../customer/v1/README.md): a section (`name`, `emails`), a member (`name.family`), or a member of every element of an array (`addresses[].postcode`). A disclosed record always carries `standardVersion` and `source.recordId`, and nothing else beyond the granted fields.',
    '',
    '## Verification, in order',
    '',
    "1. The token: size, form, `alg` in the allowlist, `typ`, the grantor's (`iss`) current key by `kid`, the signature, `aud` equal to the exchange's id, `nbf`/`exp` with a 60 s clock tolerance, every claim present and valid, lifetime within the maximum, `jti` not revoked. Failing any: **401**.",
    "2. The request: the caller is `sub`, the caller is not the grantor, the request's purpose equals `purpose`, the request's action is granted, every named dataset is the grantor's. Failing any: **403**.",
    '3. Each record: its own `consents[]` must allow the purpose (below). Records that do not are never matched or disclosed; a read of one answers 404, as for a record that does not exist.',
    '',
    'Every verification, permit or deny, is an audit event (`consent.verify`) carrying the `jti` and the reason; every disclosure is a `record.disclose` event. Revocation (`POST /v1/consents/revoke` with the `jti`, by the grantor) takes effect for the next request.',
    '',
    '## Refusals',
    '',
    'A refusal is an `application/problem+json` answer whose `reason` is one of these. It speaks of the token only, never of the grantor\'s data.',
    '',
    '| reason | status | when |',
    '|---|---|---|',
    ...denialReasons.map(([reason, status, meaning]) => `| \`${reason}\` | ${status} | ${meaning} |`),
    '',
    "## Per-record consent policy",
    '',
    "The latest statement in a record's `consents[]` for the purpose decides (by `capturedAt`; a lapsed grant counts as none). **Opt-in** purposes need a current `granted` statement; **opt-out** purposes are allowed unless the latest statement is `denied` or `withdrawn`.",
    '',
    '| purpose | policy |',
    '|---|---|',
    ...policies,
    '',
  ].join('\n');
}
