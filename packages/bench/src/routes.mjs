/** The read-only route with a session per connection (the read-only route uses one). */
export const READ_MANY = 'read-only, a session per connection'
