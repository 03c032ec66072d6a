-- Consent: partners' public signing keys, revoked tokens, the exchange's own signing keys, and the
-- SQL that the one cross-partner read applies (per-record consent, disclosure of granted fields).

-- A partner's registered public keys (its JWKS), by kid. Replacing the set retires the keys left
-- out, so tokens they signed stop verifying at once; retired keys stay for the record.
CREATE TABLE partner_signing_keys (
  partner_id uuid NOT NULL REFERENCES partners (id),
  kid text NOT NULL CHECK (length(kid) BETWEEN 1 AND 200),
  alg text NOT NULL CHECK (alg IN ('EdDSA', 'ES256')),
  jwk jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  retired_at timestamptz,
  PRIMARY KEY (partner_id, kid)
);

-- Revoked tokens, by their grantor and jti; kept until the token would have expired anyway.
CREATE TABLE consent_revocations (
  grantor_id uuid NOT NULL REFERENCES partners (id),
  jti text NOT NULL CHECK (length(jti) BETWEEN 1 AND 200),
  revoked_at timestamptz NOT NULL DEFAULT now(),
  reason text CHECK (length(reason) <= 500),
  PRIMARY KEY (grantor_id, jti)
);

-- The exchange's own signing keys (published at /.well-known/jwks.json). The private half lives
-- here so that every replica signs with the same key; a deployment with a KMS would keep only a
-- reference. A reference table under Citus.
CREATE TABLE exchange_signing_keys (
  kid text PRIMARY KEY,
  alg text NOT NULL CHECK (alg IN ('EdDSA', 'ES256')),
  public_jwk jsonb NOT NULL,
  private_jwk jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  retired_at timestamptz
);

-- Does the record's own consent list allow this purpose? The latest statement for the purpose
-- decides (by capturedAt, then position); a lapsed grant counts as no statement. Without a
-- statement, opt-out purposes are allowed and opt-in purposes are not (src/standard/code-lists.ts).
CREATE FUNCTION cx_record_permits(record jsonb, purpose text, opt_in boolean) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT CASE
    WHEN latest IS NULL THEN NOT opt_in
    WHEN latest->>'status' <> 'granted' THEN false
    WHEN latest->>'expiresAt' IS NOT NULL AND (latest->>'expiresAt')::timestamptz <= now() THEN NOT opt_in
    ELSE true
  END
  FROM (
    SELECT (
      SELECT c FROM jsonb_array_elements(coalesce(record->'consents', '[]'::jsonb)) WITH ORDINALITY AS e(c, n)
      WHERE c->>'purpose' = purpose
      ORDER BY c->>'capturedAt' DESC NULLS LAST, n DESC
      LIMIT 1
    ) AS latest
  ) s
$$;

-- The part of a value a dictionary path names ('name.family', 'addresses[].postcode', 'emails'),
-- in the value's own shape; null when there is nothing there.
CREATE FUNCTION cx_pick(value jsonb, segments text[]) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  segment text := segments[1];
  rest text[] := segments[2:];
  key text := replace(segment, '[]', '');
  child jsonb;
  picked jsonb;
BEGIN
  IF segment IS NULL THEN RETURN value; END IF;
  IF value IS NULL OR jsonb_typeof(value) <> 'object' THEN RETURN NULL; END IF;
  child := value->key;
  IF child IS NULL OR jsonb_typeof(child) = 'null' THEN RETURN NULL; END IF;
  IF segment LIKE '%[]' AND jsonb_typeof(child) = 'array' AND cardinality(rest) > 0 THEN
    -- Keep the elements' positions, so several paths into one array merge element by element.
    SELECT jsonb_agg(coalesce(cx_pick(e, rest), '{}'::jsonb) ORDER BY n) INTO picked
    FROM jsonb_array_elements(child) WITH ORDINALITY AS a(e, n);
  ELSE
    picked := cx_pick(child, rest);
  END IF;
  IF picked IS NULL THEN RETURN NULL; END IF;
  RETURN jsonb_build_object(key, picked);
END;
$$;

-- Deep merge of two picks of one record: objects by key, arrays element by element.
CREATE FUNCTION cx_merge(a jsonb, b jsonb) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  merged jsonb;
BEGIN
  IF a IS NULL THEN RETURN b; END IF;
  IF b IS NULL THEN RETURN a; END IF;
  IF jsonb_typeof(a) = 'object' AND jsonb_typeof(b) = 'object' THEN
    SELECT jsonb_object_agg(k, cx_merge(a->k, b->k)) INTO merged
    FROM (SELECT jsonb_object_keys(a) AS k UNION SELECT jsonb_object_keys(b)) keys;
    RETURN merged;
  END IF;
  IF jsonb_typeof(a) = 'array' AND jsonb_typeof(b) = 'array' THEN
    SELECT jsonb_agg(cx_merge(x.e, y.e) ORDER BY coalesce(x.n, y.n)) INTO merged
    FROM jsonb_array_elements(a) WITH ORDINALITY AS x(e, n)
    FULL JOIN jsonb_array_elements(b) WITH ORDINALITY AS y(e, n) ON x.n = y.n;
    RETURN merged;
  END IF;
  RETURN b;
END;
$$;

-- The record cut down to the granted fields; the source record id and the standard version
-- always go with it, so the grantee can refer to the record and read it.
CREATE FUNCTION cx_disclose(record jsonb, fields text[]) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  disclosed jsonb := jsonb_build_object(
    'standardVersion', record->'standardVersion',
    'source', jsonb_build_object('recordId', record->'source'->'recordId'));
  field text;
BEGIN
  IF record IS NULL THEN RETURN NULL; END IF;
  FOREACH field IN ARRAY fields LOOP
    disclosed := cx_merge(disclosed, cx_pick(record, string_to_array(field, '.')));
  END LOOP;
  RETURN disclosed;
END;
$$;
