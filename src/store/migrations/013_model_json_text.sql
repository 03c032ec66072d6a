-- A model's levels are tested in the order its JSON lists them (src/match/model.ts): kept as json,
-- which stores the text as given, not jsonb, which reorders object keys.
ALTER TABLE match_models ALTER COLUMN model TYPE json USING model::json;
