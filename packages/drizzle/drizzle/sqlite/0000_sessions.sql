CREATE TABLE `sessions` (
	`key` text PRIMARY KEY NOT NULL,
	`data` blob NOT NULL,
	`ref` text,
	`created` integer NOT NULL,
	`modified` integer NOT NULL,
	`expiry` integer NOT NULL,
	`version` integer NOT NULL,
	`lease` text,
	`lease_expiry` integer
);
--> statement-breakpoint
CREATE INDEX `sessions_ref_idx` ON `sessions` (`ref`);--> statement-breakpoint
CREATE INDEX `sessions_expiry_idx` ON `sessions` (`expiry`);