import { describe, expect, it } from 'vitest'
import { AppError } from '../../src/errors.js'
import { normaliseAddress } from '../../src/targets/targets.service.js'

// Issue 10, item 6: address text that looks numeric never reaches the resolver (getaddrinfo reads
// 010.0.0.1 as octal, 1.2.3 as 1.2.0.3, and sends 999.1.1.1 to DNS), and what a hostname resolves to
// obeys the same rules as a literal. No name here is resolved for real: the resolver is a stub.

/** A resolver that records what it was asked and answers `answer`. */
function stubResolver(answer: string) {
  const asked: string[] = []
  return { asked, resolve: async (name: string) => (asked.push(name), answer) }
}

async function refusal(input: string, resolve: (name: string) => Promise<string>): Promise<string> {
  const err = await normaliseAddress(input, resolve).then(
    () => null,
    (e: unknown) => e,
  )
  expect(err, input).toBeInstanceOf(AppError)
  const { status, detail } = err as AppError
  expect(status, input).toBe(422)
  expect(Array.isArray(detail) && detail[0]!.loc, input).toEqual(['body', 'ip'])
  return (detail as { msg: string }[])[0]!.msg
}

describe('normaliseAddress', () => {
  it('refuses numeric-looking text that is not a dotted quad without asking the resolver', async () => {
    const r = stubResolver('192.0.2.1')
    for (const input of ['010.0.0.1', '1.2.3', '127.0.0', '999.1.1.1', '1.2.3.4.5', '0x7f.1', '0x7F.0.0.1', '0x7f000001', '2130706433', '1.2.3.4.', '00.0.0.0', '1..2.3']) {
      expect(await refusal(input, r.resolve)).toMatch(/^value is not a valid IPv4 address: use four decimal numbers 0–255 without leading zeros/)
    }
    expect(r.asked).toEqual([])
  })

  it('refuses zone ids, and unspecified, broadcast and multicast addresses, with the reason', async () => {
    const r = stubResolver('192.0.2.1')
    for (const [input, reason] of [
      ['::1%lo', /zone id/],
      ['fe80::1%eth0', /zone id/],
      ['[fe80::1%25eth0]', /zone id/],
      ['0.0.0.0', /unspecified address/],
      ['::', /unspecified address/],
      ['0:0::0', /unspecified address/],
      ['255.255.255.255', /broadcast address/],
      ['224.0.0.0', /multicast address/],
      ['239.255.255.255', /multicast address/],
      ['::ffff:224.0.0.1', /multicast address/],
      ['ff00::', /multicast address/],
      ['FF02::1', /multicast address/],
    ] as const) {
      expect(await refusal(input, r.resolve), input).toMatch(reason)
    }
    expect(r.asked).toEqual([])
  })

  it('keeps canonical addresses and resolves real hostnames once, with the same rules for the answer', async () => {
    const none = stubResolver('192.0.2.1')
    expect(await normaliseAddress(' 192.0.2.10 ', none.resolve)).toEqual({ address: '192.0.2.10', resolvedFrom: null })
    expect(await normaliseAddress('223.255.255.255', none.resolve)).toEqual({ address: '223.255.255.255', resolvedFrom: null })
    expect(await normaliseAddress('2001:DB8:0::1', none.resolve)).toEqual({ address: '2001:db8::1', resolvedFrom: null })
    expect(await normaliseAddress('::ffff:192.0.2.3', none.resolve)).toEqual({ address: '192.0.2.3', resolvedFrom: null })
    expect(none.asked).toEqual([])

    const host = stubResolver('2001:DB8::5')
    expect(await normaliseAddress('router.example', host.resolve)).toEqual({ address: '2001:db8::5', resolvedFrom: 'router.example' })
    // a label may start with digits; only a numeric last label makes the text an IPv4 attempt
    expect(await normaliseAddress('10.example', host.resolve)).toEqual({ address: '2001:db8::5', resolvedFrom: '10.example' })
    expect(host.asked).toEqual(['router.example', '10.example'])

    expect(await refusal('blocked.example', stubResolver('0.0.0.0').resolve)).toMatch(/^hostname blocked\.example resolves to 0\.0\.0\.0: the unspecified address/)
    expect(await refusal('scoped.example', stubResolver('fe80::1%eth0').resolve)).toMatch(/^hostname scoped\.example resolves to fe80::1%eth0: zone ids/)
    expect(await refusal('missing.example', async () => Promise.reject(new Error('ENOTFOUND')))).toBe('hostname missing.example could not be resolved')
  })
})
