/**
 * Host inventory: one record per IP, most recently seen last, least recently seen evicted at
 * the bound (and counted), lists deduplicated and capped, MAC/vendor only for local
 * segments, services from established flows, the JSON shape hosts.ndjson is written with.
 */
import t from 'tap'
import { HostInventory } from '../agent/assets/host-inventory.js'
import { macVendor as vendorOf } from '../protocol/oui-registry.js'
import type { ConnRecord } from '../agent/flow/conn-record.js'

function conn(over: Partial<ConnRecord>): ConnRecord {
  return {
    ts: 1, lastTs: 2, origH: '10.0.0.1', respH: '10.0.0.2', respP: 80, proto: 'tcp', connState: 'SF', service: '',
    respPkts: 1, localOrig: true, localResp: true, tunnelParents: [], origL2Addr: undefined, respL2Addr: undefined, ...over,
  } as unknown as ConnRecord
}

t.test('recency order, first/last seen, eviction at the bound', async (t) => {
  const h = new HostInventory(3)
  h.observe({ ts: 5, ip: 'a' })
  h.observe({ ts: 6, ip: 'b' })
  h.observe({ ts: 7, ip: 'c' })
  h.observe({ ts: 4, ip: 'a' }) // touched again (earlier packet time): first_seen moves, a is now most recent
  t.same(h.records().map((r) => r.ip), ['b', 'c', 'a'])
  t.same([h.records()[2]!.first_seen, h.records()[2]!.last_seen], [4, 5])
  h.observe({ ts: 8, ip: 'd' }) // evicts b, the least recently seen
  t.same(h.records().map((r) => r.ip), ['c', 'a', 'd'])
  t.equal(h.dropped, 1)
  t.equal(h.size, 3)
  h.observe({ ts: 9, ip: 'd' }) // the tail touched again: order unchanged
  h.observe({ ts: 9, ip: 'c' })
  t.same([...h.each()].map((r) => r.ip), ['a', 'd', 'c'])
})

t.test('record shape and list bounds', async (t) => {
  const h = new HostInventory()
  t.equal(JSON.stringify(h.records()), '[]')
  h.observe({ ts: 1, ip: '10.0.0.9' })
  t.equal(JSON.stringify(h.records()[0]), '{"ip":"10.0.0.9","macs":[],"names":[],"first_seen":1,"last_seen":1,"services":[],"software":[],"os_hints":[]}')
  for (let i = 0; i < 40; i++) h.observe({ ts: 2, ip: '10.0.0.9', name: `n${i}.example`, nameSource: 'dns_a' })
  h.observe({ ts: 2, ip: '10.0.0.9', name: 'n0.example', nameSource: 'dns_a' })
  h.observe({ ts: 2, ip: '10.0.0.9', name: 'n0.example', nameSource: 'ssl_sni' })
  const r = h.records()[0]!
  t.equal(r.names.length, 32, 'capped at 32')
  t.same(r.names[0], { name: 'n0.example', source: 'dns_a' })
  h.observe({ ts: 3, ip: '10.0.0.9', software: 'nginx', softwareRole: 'server', service: { port: 80, proto: 'tcp', name: 'http' } })
  h.observe({ ts: 3, ip: '10.0.0.9', software: 'nginx', softwareRole: 'server', service: { port: 80, proto: 'tcp', name: 'http' } })
  h.observe({ ts: 3, ip: '10.0.0.9', dhcpVendorClass: 'MSFT 5.0', osHint: 'windows' })
  const r2 = h.records()[0]!
  t.same(r2.software, [{ name: 'nginx', role: 'server' }])
  t.same(r2.services, [{ port: 80, proto: 'tcp', service: 'http', software: 'nginx' }])
  t.same(r2.os_hints, ['windows', 'dhcp_vendor_class:MSFT 5.0'])
  // Records are copies: changing one does not change the inventory.
  r2.os_hints.push('x')
  t.same(h.records()[0]!.os_hints, ['windows', 'dhcp_vendor_class:MSFT 5.0'])
})

t.test('flows: MACs on local segments only, services of established responders', async (t) => {
  const h = new HostInventory(100, vendorOf)
  h.flow(conn({ origL2Addr: '00:00:0c:11:22:33', respL2Addr: 'ff:ff:ff:ff:ff:ff' }))
  h.flow(conn({ respP: 22, connState: 'S0', respPkts: 0 }))
  h.flow(conn({ respP: 443, service: 'ssl' }))
  h.flow(conn({ origH: '10.0.0.3', origL2Addr: '00:00:0c:44:55:66', tunnelParents: ['Cx'] }))
  const [orig, resp, tunnelled] = h.records().sort((a, b) => a.ip.localeCompare(b.ip))
  t.same(orig!.macs, ['00:00:0c:11:22:33'])
  t.ok(orig!.vendor !== undefined && orig!.vendor.length > 0, 'vendor from the OUI registry')
  t.same(resp!.macs, [], 'broadcast responder MAC not taken')
  t.same(resp!.services, [{ port: 80, proto: 'tcp', service: '-' }, { port: 443, proto: 'tcp', service: 'ssl' }])
  t.same(tunnelled!.macs, [], 'tunnelled: the frame MAC is not the host')
  // A later flow names the service of a port first seen without one.
  h.flow(conn({ respP: 80, service: 'http' }))
  t.same(h.records().find((r) => r.ip === '10.0.0.2')!.services[0], { port: 80, proto: 'tcp', service: 'http' })
})

t.test('vendorOf: canonical and other spellings agree', async (t) => {
  t.equal(vendorOf('00:00:0c:01:02:03'), vendorOf('00-00-0C-01-02-03'))
  t.equal(vendorOf('00:00:0c:01:02:03'), vendorOf('00000c010203'))
  t.equal(vendorOf('02:00:00:00:00:01'), undefined, 'locally administered')
  t.equal(vendorOf('01:00:5e:00:00:01'), undefined, 'multicast')
  t.equal(vendorOf('00:0'), undefined)
})
