-- Sessile session table for MySQL 8 and MariaDB 10.6+ (@sessile/drizzle/mysql).
-- The same statement ensureSchema() runs; rename `sessions` as you like (index names are per table).
-- key and ref are VARBINARY: byte-exact, no collation, no PAD SPACE ('a' and 'a ' are two keys).
-- Times are UTC DATETIME(3) written from the server's UTC_TIMESTAMP(3), so no time zone setting matters.
-- lease / lease_expiry are reserved for a future serialised-session lease and stay NULL for now.

CREATE TABLE IF NOT EXISTS `sessions` (
  `key` varbinary(255) NOT NULL,
  `data` longblob NOT NULL,
  `ref` varbinary(1020),
  `created` datetime(3) NOT NULL,
  `modified` datetime(3) NOT NULL,
  `expiry` datetime(3) NOT NULL,
  `version` int NOT NULL,
  `lease` varchar(64),
  `lease_expiry` datetime(3),
  PRIMARY KEY (`key`),
  INDEX `ref_idx` (`ref`),
  INDEX `expiry_idx` (`expiry`)
);
