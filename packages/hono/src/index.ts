// The middleware and its context type
export { type HonoSessionOptions, honoSession, type SessionEnv } from './hono-session.js'
