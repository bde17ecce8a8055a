// The proof of issue 7: labelled captures (benign hour + one attack each) replayed through
// the agent CLI into a collector; every attack must give exactly one alert, of its type and
// hosts, and no other alert; the benign-only hour must give none.
import t from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SCENARIO_NAMES, writeScenario } from './helpers/scenario-generator.js'
import { agentReplay, fetchAlerts, matchesTruth, startScenarioCollector } from './helpers/scenario-replay.js'

const dir = mkdtempSync(join(tmpdir(), 'telltale-scenarios-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))

t.test('one hour of benign traffic produces no alert', async (t) => {
  const s = writeScenario(dir, undefined)
  const sc = await startScenarioCollector()
  t.teardown(() => sc.close())
  await agentReplay(sc, s.pcap)
  const alerts = await fetchAlerts(sc)
  t.same(alerts.map((a) => `${a.type} ${a.src} → ${a.dst}: ${a.summary}`), [])
  t.ok(sc.c.detection.detection.counters.get('detection_flows_total') > 2000, 'the hour reached detection')
})

for (const name of SCENARIO_NAMES) {
  t.test(`attack ${name}: exactly one alert, of its type and hosts`, async (t) => {
    const s = writeScenario(dir, name)
    const sc = await startScenarioCollector()
    t.teardown(() => sc.close())
    await agentReplay(sc, s.pcap)
    const alerts = await fetchAlerts(sc)
    const truth = s.truth[0]!
    t.same(alerts.map((a) => `${a.type} ${a.src} → ${a.dst}`), [`${truth.type} ${truth.src} → ${truth.dst ?? alerts[0]?.dst ?? ''}`], 'one alert, nothing else')
    t.ok(alerts.length === 1 && matchesTruth(alerts[0]!, truth))
    const a = alerts[0]
    if (a) {
      t.equal(a.status, 'open')
      t.match(a.mitre, /^T\d{4}/)
      t.ok(a.evidence.flow_uids.length > 0 || a.evidence.event_ids.length > 0, 'evidence attached')
      t.ok(a.first_seen_us <= a.last_seen_us)
    }
  })
}
