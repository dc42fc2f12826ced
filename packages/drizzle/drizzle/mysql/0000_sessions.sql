CREATE TABLE `sessions` (
	`key` varbinary(255) NOT NULL,
	`data` longblob NOT NULL,
	`ref` varbinary(1020),
	`created` datetime(3) NOT NULL,
	`modified` datetime(3) NOT NULL,
	`expiry` datetime(3) NOT NULL,
	`version` int NOT NULL,
	`lease` varchar(64),
	`lease_expiry` datetime(3),
	CONSTRAINT `sessions_key` PRIMARY KEY(`key`)
);
--> statement-breakpoint
CREATE INDEX `ref_idx` ON `sessions` (`ref`);--> statement-breakpoint
CREATE INDEX `expiry_idx` ON `sessions` (`expiry`);