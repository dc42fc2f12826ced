-- Sessile session table for PostgreSQL and PGlite (@sessile/drizzle/pg, /pglite).
-- The same statements ensureSchema() runs; rename "sessions" (and the index names) as you like.
-- Keys and refs use the "C" collation: byte-exact and in binary order, whatever the database default.
-- lease / lease_expiry are reserved for a future serialised-session lease and stay NULL for now.

CREATE TABLE IF NOT EXISTS "sessions" (
  "key" text COLLATE "C" PRIMARY KEY NOT NULL,
  "data" bytea NOT NULL,
  "ref" text COLLATE "C",
  "created" timestamp (3) with time zone NOT NULL,
  "modified" timestamp (3) with time zone NOT NULL,
  "expiry" timestamp (3) with time zone NOT NULL,
  "version" integer NOT NULL,
  "lease" varchar(64),
  "lease_expiry" timestamp (3) with time zone
);

CREATE INDEX IF NOT EXISTS "sessions_ref_idx" ON "sessions" USING btree ("ref");

CREATE INDEX IF NOT EXISTS "sessions_expiry_idx" ON "sessions" USING btree ("expiry");
