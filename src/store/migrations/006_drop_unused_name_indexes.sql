-- No blocking rule searches names by equality: single queries reach names through the trigram
-- index and phonetic keys, batch linkage through hash joins. These two b-trees only cost uploads
-- time (a quarter of publishing 300,000 records on the server), so they go.
DROP INDEX IF EXISTS customer_records_family_name_idx;
DROP INDEX IF EXISTS customer_records_given_name_idx;
