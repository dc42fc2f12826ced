CREATE TABLE "sessions" (
	"key" text COLLATE "C" PRIMARY KEY NOT NULL,
	"data" "bytea" NOT NULL,
	"ref" text COLLATE "C",
	"created" timestamp (3) with time zone NOT NULL,
	"modified" timestamp (3) with time zone NOT NULL,
	"expiry" timestamp (3) with time zone NOT NULL,
	"version" integer NOT NULL,
	"lease" varchar(64),
	"lease_expiry" timestamp (3) with time zone
);
--> statement-breakpoint
CREATE INDEX "sessions_ref_idx" ON "sessions" USING btree ("ref");--> statement-breakpoint
CREATE INDEX "sessions_expiry_idx" ON "sessions" USING btree ("expiry");