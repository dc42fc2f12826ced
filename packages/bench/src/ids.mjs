import { randomBytes } from 'node:crypto'

/** Ids in the shape Sessile issues (32 CSPRNG bytes, base64url), used for every contender alike. */
export const newId = () => randomBytes(32).toString('base64url')

/** A table name no other engineer's run can share. */
export const uniqueTable = (prefix) => `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`
