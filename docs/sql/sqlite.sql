-- Sessile session table for SQLite and libSQL (@sessile/drizzle/sqlite).
-- The same statements ensureSchema() runs; rename "sessions" (and the index names) as you like.
-- Keys and refs are TEXT with SQLite's default BINARY collation: byte-exact and in binary order.
-- created, modified, expiry and lease_expiry are INTEGER milliseconds since 1970-01-01 UTC.
-- lease / lease_expiry hold the serialised mode's lease and are NULL otherwise.

CREATE TABLE IF NOT EXISTS "sessions" (
  "key" text PRIMARY KEY NOT NULL,
  "data" blob NOT NULL,
  "ref" text,
  "created" integer NOT NULL,
  "modified" integer NOT NULL,
  "expiry" integer NOT NULL,
  "version" integer NOT NULL,
  "lease" text,
  "lease_expiry" integer
);

CREATE INDEX IF NOT EXISTS "sessions_ref_idx" ON "sessions" ("ref");

CREATE INDEX IF NOT EXISTS "sessions_expiry_idx" ON "sessions" ("expiry");
