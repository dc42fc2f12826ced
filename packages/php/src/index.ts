// PHP's session encodings and ADOdb's layers
export {
  type PhpCodec,
  type PhpCodecOptions,
  type PhpSerializeHandler,
  phpCodec,
  type RawMarker,
} from './codec.js'
