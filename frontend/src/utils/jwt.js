/** Seconds-since-epoch expiry of a JWT, or null when it cannot be read. */
export function tokenExpiry(token) {
  if (!token) return null
  try {
    const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')
    const json = atob(part.padEnd(part.length + ((4 - (part.length % 4)) % 4), '='))
    const exp = JSON.parse(json).exp
    return typeof exp === 'number' ? exp : null
  } catch {
    return null
  }
}

/** Seconds left before the token expires (negative once expired, Infinity if unknown). */
export function secondsLeft(token, now = Date.now()) {
  const exp = tokenExpiry(token)
  return exp === null ? Infinity : exp - now / 1000
}
