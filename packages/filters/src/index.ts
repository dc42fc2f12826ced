// Encryption

export { type AesGcmOptions, aesGcm, type KeyInput } from './aes-gcm.js'

// Compression

export { type BrotliOptions, brotli } from './brotli.js'
export { type GzipOptions, gzip } from './gzip.js'
