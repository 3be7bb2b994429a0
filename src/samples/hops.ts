// Hop count guessed from a reply's TTL, as the predecessor did: the sender's initial TTL is taken to be
// the smallest usual one (64, 128 or 255) not below the observed TTL, and every router on the way took
// one off. Wrong for hosts with other initial TTLs, but it is what the API has always called `hops`.

/** Estimated hops for a reply TTL; null when there is no TTL (a lost echo). */
export function estimateHops(ttl: number | null | undefined): number | null {
  if (ttl === null || ttl === undefined) return null
  const initial = ttl <= 64 ? 64 : ttl <= 128 ? 128 : 255
  return initial - ttl
}
