-- Idempotency-Key as draft-ietf-httpapi-idempotency-key has it: a key names one request, so the
-- fingerprint of the request it was first used with (content type, mapping, strictness and body,
-- SHA-256) is kept, and the same key with another request is refused.
ALTER TABLE uploads ADD COLUMN request_sha256 text;
