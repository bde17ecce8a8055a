/**
 * The watchdog with a fake notifier and a fake clock: pings while every loop beats, stops
 * pinging (and says why in STATUS=) when one stalls, resumes when it beats again; the
 * ping interval comes from $WATCHDOG_USEC. The collector's copy behaves the same.
 */
import t from 'tap'
import { LoopHeartbeat, Watchdog, type WatchdogClock } from '../agent/ops/watchdog.js'
import { Watchdog as CollectorWatchdog } from '../collector/ops/watchdog.js'
import { watchdogIntervalFromEnv, type Notifier, type NotifyFields } from '../agent/ops/sd-notify.js'

class FakeNotifier implements Notifier {
  readonly enabled = true
  readonly sent: Array<Record<string, string | number>> = []
  notify(fields: NotifyFields): void { this.sent.push({ ...fields }) }
  async flush(): Promise<void> {}
  counters(): Record<string, number> { return {} }
  get pings(): number { return this.sent.filter((m) => m.WATCHDOG === 1).length }
}

class FakeClock implements WatchdogClock {
  nowMs = 1_000_000
  private timers: Array<{ fn: () => void; every: number; next: number } | undefined> = []
  now(): number { return this.nowMs }
  setInterval(fn: () => void, ms: number): unknown { this.timers.push({ fn, every: ms, next: this.nowMs + ms }); return this.timers.length - 1 }
  clearInterval(h: unknown): void { this.timers[h as number] = undefined }
  /** Advances time, firing due timers in order. */
  advance(ms: number, each?: (now: number) => void): void {
    const end = this.nowMs + ms
    for (;;) {
      const due = this.timers.filter((x) => x !== undefined && x.next <= end).sort((a, b) => a!.next - b!.next)[0]
      if (!due) break
      this.nowMs = due.next
      each?.(this.nowMs)
      due.next += due.every
      due.fn()
    }
    this.nowMs = end
  }
}

for (const [label, W] of [['agent', Watchdog], ['collector', CollectorWatchdog]] as const) {
  t.test(`${label}: a stalled loop stops the pings, a beat resumes them`, async (t) => {
    const clock = new FakeClock()
    const notifier = new FakeNotifier()
    const loop = new LoopHeartbeat('capture-loop', 30_000, clock.now())
    const changes: Array<[boolean, readonly string[]]> = []
    const wd = new W({ intervalMs: 15_000, ping: true }, {
      notifier, probes: [loop], clock, status: () => 'running: 42 pps', onHealthChange: (h, r) => changes.push([h, r]),
    })
    wd.start()
    // Healthy for two minutes: the loop beats every second.
    clock.advance(120_000, (now) => loop.beat(now))
    t.equal(notifier.pings, 8, 'one ping per interval while healthy')
    t.same(notifier.sent[0], { WATCHDOG: 1, STATUS: 'running: 42 pps' }, 'ping carries the live STATUS line')
    t.ok(wd.isHealthy)

    // The loop stalls: no beat for two minutes.
    const before = notifier.pings
    clock.advance(120_000)
    const stalledPings = notifier.pings - before
    // The first 30 s are within the allowance (pings at +15 s and +30 s), then none.
    t.equal(stalledPings, 2, 'pings stop once the stall exceeds maxStallMs')
    t.notOk(wd.isHealthy)
    t.match(notifier.sent[notifier.sent.length - 1], { STATUS: /^unhealthy: capture-loop: no progress for \d+ s$/ })
    t.notOk('WATCHDOG' in notifier.sent[notifier.sent.length - 1]!, 'no WATCHDOG in the unhealthy message')
    t.equal(changes.length, 1)
    t.equal(changes[0]![0], false)
    t.equal(wd.counters().watchdog_withheld_total, 6)

    // It recovers.
    loop.beat(clock.now())
    clock.advance(15_000)
    t.equal(notifier.pings, before + stalledPings + 1, 'pings resume after a beat')
    t.same(changes.map((c) => c[0]), [false, true])

    wd.stop()
    const n = notifier.sent.length
    clock.advance(60_000, (now) => loop.beat(now))
    t.equal(notifier.sent.length, n, 'nothing after stop()')
  })
}

t.test('without WatchdogSec only STATUS= is refreshed', async (t) => {
  const clock = new FakeClock()
  const notifier = new FakeNotifier()
  const wd = new Watchdog({ intervalMs: 10_000, ping: false }, { notifier, probes: [], clock, status: () => 'ok' })
  wd.start()
  clock.advance(30_000)
  t.same(notifier.sent, [{ STATUS: 'ok' }, { STATUS: 'ok' }, { STATUS: 'ok' }])
})

t.test('a throwing status source does not stop the pings', async (t) => {
  const clock = new FakeClock()
  const notifier = new FakeNotifier()
  const wd = new Watchdog({ intervalMs: 10_000, ping: true }, { notifier, probes: [], clock, status: () => { throw new Error('boom') } })
  wd.tick()
  t.same(notifier.sent, [{ WATCHDOG: 1 }])
  t.equal(wd.counters().watchdog_status_errors_total, 1)
})

t.test('ping interval from WATCHDOG_USEC / WATCHDOG_PID', async (t) => {
  t.equal(watchdogIntervalFromEnv({ WATCHDOG_USEC: '60000000' }, 5), 30_000, 'half of WatchdogSec')
  t.equal(watchdogIntervalFromEnv({ WATCHDOG_USEC: '60000000', WATCHDOG_PID: '5' }, 5), 30_000)
  t.equal(watchdogIntervalFromEnv({ WATCHDOG_USEC: '60000000', WATCHDOG_PID: '6' }, 5), undefined, 'meant for another process')
  t.equal(watchdogIntervalFromEnv({}, 5), undefined, 'watchdog off')
  t.equal(watchdogIntervalFromEnv({ WATCHDOG_USEC: 'x' }, 5), undefined)
  t.equal(watchdogIntervalFromEnv({ WATCHDOG_USEC: '0' }, 5), undefined)
})
