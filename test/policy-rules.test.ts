// The compiled allow rules: every port-spec form, services, '*' zones, intra-zone edges.
import t from 'tap'
import { AllowRules } from '../collector/policy/policy-rules.js'
import type { PolicyRule } from '../collector/policy/policy-config.js'

const rule = (from: string, to: string, ports: string[], services: string[] = []): PolicyRule => ({ from, to, ports, services })

t.test('port specs: any, icmp, one port, a range, a transport\'s every port', async (t) => {
  const a = new AllowRules([rule('lan', 'dmz', ['tcp/22', 'udp/1000-1010', 'icmp']), rule('lan', 'web', ['tcp/any']), rule('lan', 'ext', ['any'])], false)
  t.ok(a.allows('lan', 'dmz', 'tcp', 22, ''))
  t.notOk(a.allows('lan', 'dmz', 'udp', 22, ''), 'the port of another transport')
  t.notOk(a.allows('lan', 'dmz', 'tcp', 23, ''))
  t.ok(a.allows('lan', 'dmz', 'udp', 1000, ''), 'range: first port')
  t.ok(a.allows('lan', 'dmz', 'udp', 1010, ''), 'range: last port')
  t.notOk(a.allows('lan', 'dmz', 'udp', 1011, ''))
  t.notOk(a.allows('lan', 'dmz', 'tcp', 1005, ''))
  t.ok(a.allows('lan', 'dmz', 'icmp', 0, ''))
  t.ok(a.allows('lan', 'web', 'tcp', 65535, ''))
  t.notOk(a.allows('lan', 'web', 'udp', 53, ''), 'tcp/any is tcp only')
  t.notOk(a.allows('lan', 'web', 'icmp', 0, ''))
  t.ok(a.allows('lan', 'ext', 'udp', 9, ''))
  t.ok(a.allows('lan', 'ext', '', 0, ''), 'any: whatever the transport')
  t.notOk(a.allows('dmz', 'lan', 'tcp', 22, ''), 'edges are directed')
})

t.test('services, \'*\' zones, rules without ports or services, intra-zone edges', async (t) => {
  const a = new AllowRules([rule('lan', 'dmz', [], ['ssh', 'http']), rule('*', 'dns', ['udp/53']), rule('mon', '*', []), rule('lan', 'lan', ['tcp/445'])], false)
  t.ok(a.allows('lan', 'dmz', 'tcp', 2222, 'ssh'))
  t.ok(a.allows('lan', 'dmz', 'tcp', 8080, 'ssl,http'), 'one of the comma-joined services')
  t.notOk(a.allows('lan', 'dmz', 'tcp', 8080, 'ssl'))
  t.notOk(a.allows('lan', 'dmz', 'tcp', 8080, ''), 'no service: only ports could allow it')
  t.notOk(a.allows('lan', 'dmz', 'tcp', 22, 'sshd'), 'names match whole')
  t.ok(a.allows('anything', 'dns', 'udp', 53, ''))
  t.notOk(a.allows('anything', 'dns', 'tcp', 53, ''))
  t.ok(a.allows('mon', 'lan', 'tcp', 5, ''), 'neither ports nor services: the whole edge')
  t.notOk(a.allows('lan', 'lan', 'tcp', 22, ''), 'intra-zone not allowed by default here')
  t.ok(a.allows('lan', 'lan', 'tcp', 445, ''))
  const intra = new AllowRules([], true)
  t.ok(intra.allows('lan', 'lan', 'tcp', 22, ''))
  t.notOk(intra.allows('lan', 'dmz', 'tcp', 22, ''))
})
