import type { Conn } from './conn.js'

/**
 * Binary min-heap of (time, connection) used for connection timers in packet time.
 * Entries are never removed early: a popped entry whose connection is gone or whose timers
 * moved later is simply re-checked (lazy deletion). Each connection pushes a handful of
 * entries over its life, never one per packet.
 */
export class TimerHeap {
  private times: number[] = []
  private conns: Conn[] = []

  get size(): number {
    return this.times.length
  }

  peekTime(): number {
    return this.times.length > 0 ? this.times[0]! : Infinity
  }

  push(t: number, c: Conn): void {
    const times = this.times
    const conns = this.conns
    let i = times.length
    times.push(t)
    conns.push(c)
    while (i > 0) {
      const p = (i - 1) >> 1
      if (times[p]! <= t) break
      times[i] = times[p]!
      conns[i] = conns[p]!
      i = p
    }
    times[i] = t
    conns[i] = c
  }

  /** Remove the earliest entry and return its connection. */
  pop(): Conn | undefined {
    const times = this.times
    const conns = this.conns
    const n = times.length
    if (n === 0) return undefined
    const top = conns[0]!
    const lastT = times.pop()!
    const lastC = conns.pop()!
    if (n > 1) {
      let i = 0
      const m = n - 1
      for (;;) {
        const l = 2 * i + 1
        if (l >= m) break
        const r = l + 1
        const c = r < m && times[r]! < times[l]! ? r : l
        if (times[c]! >= lastT) break
        times[i] = times[c]!
        conns[i] = conns[c]!
        i = c
      }
      times[i] = lastT
      conns[i] = lastC
    }
    return top
  }

  clear(): void {
    this.times = []
    this.conns = []
  }
}
