import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashApiKey } from '../../src/services/create-api-key.js';
import { selectAuditEvents } from '../../src/store/audit-events.js';
import { createTestExchange, type TestExchange } from '../helpers/app.js';
import { engineUnderTest } from '../helpers/database.js';

describe(`authentication and access on ${engineUnderTest}`, () => {
  let ex: TestExchange;
  let acme: { partner: { id: string }; key: string };
  let globex: { partner: { id: string }; key: string };
  beforeAll(async () => {
    ex = await createTestExchange();
    acme = await ex.addPartner('acme');
    globex = await ex.addPartner('globex');
  });
  afterAll(() => ex.close());

  describe('keys', () => {
    it('stores only a SHA-256 of each key', async () => {
      const rows = await ex.db.query<{ key_hash: string; prefix: string }>('SELECT key_hash, prefix FROM api_keys');
      const text = JSON.stringify(rows);
      expect(text).not.toContain(acme.key);
      expect(rows.map((r) => r.key_hash)).toContain(hashApiKey(acme.key));
      expect(rows.every((r) => /^[0-9a-f]{64}$/.test(r.key_hash))).toBe(true);
    });

    it('pages keys and partners, with a Link to the next page', async () => {
      for (const name of ['k1', 'k2', 'k3']) await ex.request('/v1/keys', { method: 'POST', key: acme.key, json: { name } });
      const first = await ex.request('/v1/keys?limit=2', { key: acme.key });
      const page = (await first.json()) as { items: { id: string; partnerId: string }[]; nextCursor: string };
      expect(page.items).toHaveLength(2);
      expect(first.headers.get('link')).toBe(`</v1/keys?limit=2&cursor=${page.nextCursor}>; rel="next"`);
      const rest = (await (await ex.request(`/v1/keys?limit=100&cursor=${page.nextCursor}`, { key: acme.key })).json()) as { items: { id: string; partnerId: string }[]; nextCursor: null };
      const all = (await (await ex.request('/v1/keys', { key: acme.key })).json()) as { items: { id: string }[] };
      expect([...page.items, ...rest.items].map((k) => k.id)).toEqual(all.items.map((k) => k.id));
      expect(rest.nextCursor).toBeNull();
      expect([...page.items, ...rest.items].every((k) => k.partnerId === acme.partner.id)).toBe(true);
      // globex pages its own keys only, even from acme's cursor.
      const theirs = (await (await ex.request(`/v1/keys?cursor=${page.nextCursor}`, { key: globex.key })).json()) as { items: unknown[] };
      expect(theirs.items).toEqual([]);

      const partners = await ex.request('/v1/partners?limit=1', { key: ex.adminKey });
      const one = (await partners.json()) as { items: { slug: string }[]; nextCursor: string };
      expect(one.items.map((p) => p.slug)).toEqual(['acme']);
      const next = /^<([^>]+)>; rel="next"$/.exec(partners.headers.get('link')!)![1]!;
      expect(((await (await ex.request(next, { key: ex.adminKey })).json()) as { items: { slug: string }[] }).items.map((p) => p.slug)).toEqual(['globex']);
    });

    it('shows a new key once, then lists it without the key', async () => {
      const created = await ex.request('/v1/keys', { method: 'POST', key: acme.key, json: { name: 'job' } });
      expect(created.status).toBe(201);
      const body = (await created.json()) as { key: string; apiKey: { id: string; partnerId: string; role: string } };
      expect(body.key).toMatch(/^cx_[A-Za-z0-9_-]{43}$/);
      expect(body.apiKey).toMatchObject({ partnerId: acme.partner.id, role: 'partner' });
      expect(created.headers.get('location')).toBe(`/v1/keys/${body.apiKey.id}`);
      const listed = await (await ex.request('/v1/keys', { key: acme.key })).text();
      expect(listed).toContain(body.apiKey.id);
      expect(listed).not.toContain(body.key);
      expect((await ex.request('/v1/partners/me', { key: body.key })).status).toBe(200);
    });
  });

  describe('missing, wrong and revoked keys', () => {
    it.each([
      ['no header', undefined, /Authorization: Bearer/],
      ['a malformed header', 'Basic abc', /must be "Bearer <key>"/],
      ['an unknown key', `Bearer cx_${'A'.repeat(43)}`, /not valid/],
      ['a key of the wrong shape', 'Bearer hello', /not valid/],
    ])('answers 401 problem+json for %s', async (_name, header, detail) => {
      const response = await ex.request('/v1/partners/me', { headers: header ? { authorization: header } : {} });
      expect(response.status).toBe(401);
      expect(response.headers.get('content-type')).toBe('application/problem+json');
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
      const problem = (await response.json()) as { detail: string; status: number };
      expect(problem.status).toBe(401);
      expect(problem.detail).toMatch(detail);
    });

    it('refuses a revoked key at once, and audits the revocation', async () => {
      const created = (await (await ex.request('/v1/keys', { method: 'POST', key: acme.key, json: { name: 'short-lived' } })).json()) as {
        key: string;
        apiKey: { id: string };
      };
      expect((await ex.request('/v1/partners/me', { key: created.key })).status).toBe(200);
      const revoked = await ex.request(`/v1/keys/${created.apiKey.id}`, { method: 'DELETE', key: acme.key });
      expect(revoked.status).toBe(200);
      expect(((await revoked.json()) as { revokedAt: string | null }).revokedAt).not.toBeNull();
      expect((await ex.request('/v1/partners/me', { key: created.key })).status).toBe(401);
      const events = await selectAuditEvents(ex.db, { action: 'api_key.revoke' });
      expect(events.at(-1)).toMatchObject({ targetId: created.apiKey.id, partnerId: acme.partner.id, outcome: 'success', actorType: 'api_key' });
      expect(events.at(-1)!.requestId).toBeTruthy();
    });
  });

  describe('roles', () => {
    it('lets only admins register partners', async () => {
      const asPartner = await ex.request('/v1/partners', { method: 'POST', key: acme.key, json: { slug: 'initech', name: 'Initech' } });
      expect(asPartner.status).toBe(403);
      const asAdmin = await ex.request('/v1/partners', { method: 'POST', key: ex.adminKey, json: { slug: 'initech', name: 'Initech' } });
      expect(asAdmin.status).toBe(201);
      const location = asAdmin.headers.get('location')!;
      expect(location).toBe(`/v1/partners/${((await asAdmin.json()) as { id: string }).id}`);
      expect(((await (await ex.request(location, { key: ex.adminKey })).json()) as { slug: string }).slug).toBe('initech');
      const again = await ex.request('/v1/partners', { method: 'POST', key: ex.adminKey, json: { slug: 'initech', name: 'Initech' } });
      expect(again.status).toBe(409);
      const [event] = (await selectAuditEvents(ex.db, { action: 'partner.create' })).filter((e) => e.details.slug === 'initech');
      expect(event).toMatchObject({ outcome: 'success', actorType: 'api_key' });
    });

    it('lets auditors read partners but not change anything', async () => {
      const created = (await (await ex.request('/v1/keys', { method: 'POST', key: ex.adminKey, json: { name: 'audit', role: 'auditor' } })).json()) as {
        key: string;
      };
      expect((await ex.request('/v1/partners', { key: created.key })).status).toBe(200);
      expect((await ex.request('/v1/partners', { method: 'POST', key: created.key, json: { slug: 'nope', name: 'n' } })).status).toBe(403);
      expect((await ex.request('/v1/keys', { method: 'POST', key: created.key, json: { name: 'x' } })).status).toBe(403);
      expect((await ex.request('/v1/partners', { key: acme.key })).status).toBe(403);
    });

    it('does not let a partner mint an admin key', async () => {
      const response = await ex.request('/v1/keys', { method: 'POST', key: acme.key, json: { name: 'x', role: 'admin' } });
      expect(response.status).toBe(403);
    });
  });

  describe('another partner\'s resources', () => {
    it('answer 404, exactly like ones that do not exist', async () => {
      const globexKeys = (await (await ex.request('/v1/keys', { key: globex.key })).json()) as { items: { id: string }[] };
      const foreignKey = globexKeys.items[0]!.id;
      const foreign = await ex.request(`/v1/keys/${foreignKey}`, { method: 'DELETE', key: acme.key });
      const missing = await ex.request('/v1/keys/00000000-0000-4000-8000-000000000000', { method: 'DELETE', key: acme.key });
      expect(foreign.status).toBe(404);
      expect(missing.status).toBe(404);
      const strip = (p: Record<string, unknown>) => ({ ...p, requestId: undefined, instance: undefined });
      expect(strip((await foreign.json()) as Record<string, unknown>)).toEqual(strip((await missing.json()) as Record<string, unknown>));
      // The key is untouched.
      expect((await ex.request('/v1/partners/me', { key: globex.key })).status).toBe(200);

      expect((await ex.request(`/v1/partners/${globex.partner.id}`, { key: acme.key })).status).toBe(404);
      expect((await ex.request('/v1/partners/globex', { key: acme.key })).status).toBe(404);
      expect((await ex.request('/v1/partners/acme', { key: acme.key })).status).toBe(200);
      expect((await ex.request('/v1/keys', { method: 'POST', key: acme.key, json: { name: 'x', partner: 'globex' } })).status).toBe(404);
    });
  });

  describe('audit in the same transaction', () => {
    it('rolls the change back when its audit event cannot be written', async () => {
      await ex.db.exec(`
        CREATE FUNCTION refuse_partner_audit() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN IF NEW.action = 'partner.create' THEN RAISE EXCEPTION 'audit store unavailable'; END IF; RETURN NEW; END; $$;
        CREATE TRIGGER refuse_partner_audit BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION refuse_partner_audit();`);
      try {
        const response = await ex.request('/v1/partners', { method: 'POST', key: ex.adminKey, json: { slug: 'ghost', name: 'Ghost' } });
        expect(response.status).toBe(500);
        expect(await ex.db.query(`SELECT 1 FROM partners WHERE slug = 'ghost'`)).toEqual([]);
      } finally {
        await ex.db.exec('DROP TRIGGER refuse_partner_audit ON audit_events; DROP FUNCTION refuse_partner_audit();');
      }
    });
  });
});
