/**
 * hosts.ndjson lines rendered as bytes (encodeHostLine, which replay uses) must be exactly
 * JSON.stringify(record) + "\n", or be declined (-1) so that replay writes that line instead.
 */
import t from 'tap'
import fc from 'fast-check'
import { encodeHostLine, hostLineMaxBytes } from '../agent/output/host-line-bytes.js'
import { HostInventory, type HostRecord } from '../agent/assets/host-inventory.js'

const text = fc.oneof(fc.constantFrom('', '-', 'dns', 'a"b', 'x\\y', 'tab\there', 'é', 'Mozilla/5.0 (X11)'), fc.string(), fc.string({ unit: 'binary', maxLength: 20 }))
const num = fc.oneof(fc.double(), fc.integer(), fc.constantFrom(1700000000.01625, 0, -0, 1e21, 5e-7, NaN, Infinity))

const record = fc.record({
  ip: text,
  macs: fc.array(text, { maxLength: 3 }),
  names: fc.array(fc.record({ name: text, source: text }), { maxLength: 3 }),
  first_seen: num,
  last_seen: num,
  services: fc.array(fc.tuple(fc.integer({ min: 0, max: 65535 }), fc.constantFrom('tcp', 'udp'), text, fc.option(text, { nil: undefined }), fc.boolean())
    .map(([port, proto, service, software, withKey]) => (withKey ? { port, proto, service, software } : { port, proto, service }) as HostRecord['services'][number]), { maxLength: 3 }),
  software: fc.array(fc.record({ name: text, role: text }), { maxLength: 3 }),
  os_hints: fc.array(text, { maxLength: 3 }),
}).chain((r) => fc.constantFrom(0, 1, 2).map((v) => {
  const h: HostRecord = { ...r }
  if (v === 1) h.vendor = 'Intel Corporate'
  if (v === 2) h.vendor = undefined
  return h
}))

function encoded(h: HostRecord): string | undefined {
  const b = Buffer.alloc(hostLineMaxBytes(h) + 8, 0xee)
  const end = encodeHostLine(h, b, 3)
  if (end < 0) return undefined
  if (end - 3 > hostLineMaxBytes(h)) throw new Error('beyond hostLineMaxBytes')
  return b.toString('latin1', 3, end)
}

t.test('encodeHostLine writes JSON.stringify(record) + newline, or declines', async (t) => {
  let declined = 0
  fc.assert(fc.property(record, (h) => {
    const got = encoded(h)
    if (got === undefined) { declined++; return true }
    return got === JSON.stringify(h) + '\n'
  }), { numRuns: 3000 })
  t.ok(declined < 3000, `some records encoded (${declined} declined)`)
})

t.test('the inventory records of a replay-like workload are encoded, not declined', async (t) => {
  const inv = new HostInventory(100, () => undefined)
  inv.observe({ ts: 1, ip: '10.0.0.1', mac: '02:00:00:00:00:01', name: 'host-a.example', nameSource: 'dns_a', osHint: 'linux' })
  inv.observe({ ts: 2, ip: '10.0.0.2', software: 'OpenSSH_9.6', softwareRole: 'server', service: { port: 22, proto: 'tcp', name: 'ssh' } })
  inv.observe({ ts: 3, ip: '2001:db8::1', software: 'curl/8.5.0', softwareRole: 'client' })
  inv.observe({ ts: 4, ip: '10.0.0.3', mac: '00:1b:21:00:00:01' })
  let n = 0
  for (const h of inv.eachToWrite()) {
    t.equal(encoded(h), JSON.stringify(h) + '\n', h.ip)
    n++
  }
  t.equal(n, 4)
})
