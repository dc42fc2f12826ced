// PHP's session encodings and ADOdb's layers
export {
  type PhpCodec,
  type PhpCodecOptions,
  type PhpSerializeHandler,
  phpCodec,
  type RawMarker,
} from './codec.js'
// PHP's session ids
export { type PhpIdsOptions, phpIds } from './ids.js'
// The manager for a session shared with PHP
export { phpSessions } from './sessions.js'
// Tables the stores (`@sessile/php/pg`, `@sessile/php/mysql`) read and write
export { ADODB_SESSIONS2, PHP_SESSION_TABLE, type PhpColumns, type PhpStoreOptions } from './table.js'
