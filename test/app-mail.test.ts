/**
 * Mail analyzers (SMTP/POP3/IMAP service identification and STARTTLS): confirmation on a
 * greeting plus a client command, violation on a first server line that is not a greeting
 * (also when it arrives in pieces, after client bytes, or never ends), and the upgrade to TLS.
 */
import t from 'tap'
import { MAIL_ANALYZERS } from '../agent/app/mail/mail-analyzers.js'
import type { AppAnalyzer, AppConnInfo, AppOutput } from '../agent/app/app-analyzer.js'

const conn: AppConnInfo = { uid: 'Ctest', ts: 1, origH: '10.0.0.1', origP: 40000, respH: '10.0.0.25', respP: 25, proto: 'tcp' }

function harness(name: string): { a: AppAnalyzer; ev: string[] } {
  const ev: string[] = []
  const out: AppOutput = {
    log: () => { ev.push('log') },
    confirm: (s) => { ev.push(`confirm:${s}`) },
    violation: (r) => { ev.push(`violation:${r}`) },
    anomaly: (n) => { ev.push(`anomaly:${n}`) },
    observe: () => {},
    upgrade: (s) => { ev.push(`upgrade:${s}`) },
    expect: () => {},
  }
  const f = MAIL_ANALYZERS.find((x) => x.name === name)!
  return { a: f.create(conn, out), ev }
}

const b = (s: string): Buffer => Buffer.from(s, 'latin1')

t.test('SMTP greeting + EHLO confirms; STARTTLS accepted upgrades', async (t) => {
  const { a, ev } = harness('smtp')
  a.deliver(false, b('220 mx.example ESMTP\r\n'), 1)
  a.deliver(true, b('EHLO client\r\n'), 2)
  a.deliver(true, b('STARTTLS\r\n'), 3)
  a.deliver(false, b('220 2.0.0 Ready to start TLS\r\n'), 4)
  t.same(ev, ['confirm:smtp', 'upgrade:ssl'])
})

t.test('client command before the greeting still counts', async (t) => {
  const { a, ev } = harness('pop3')
  a.deliver(true, b('USER bob\r\n'), 1)
  a.deliver(false, b('+OK ready\r\n'), 2)
  t.same(ev, ['confirm:pop3'])
})

t.test('a first server line that is no greeting is a violation once it ends', async (t) => {
  const { a, ev } = harness('smtp')
  a.deliver(true, b('ABCDEFGHIJKLMNOP'), 1)
  a.deliver(false, b('XYZ no newline yet'), 2)
  t.same(ev, [], 'nothing until the line ends')
  a.deliver(true, b('EHLO x\r\n'), 3)
  a.deliver(false, b(' still the first line'), 4)
  t.same(ev, [])
  a.deliver(false, b('...\r\n220 late greeting\r\n'), 5)
  t.same(ev, ['violation:smtp: unexpected greeting'])
  a.deliver(false, b('220 more\r\n'), 6)
  a.deliver(true, b('EHLO y\r\n'), 7)
  t.same(ev, ['violation:smtp: unexpected greeting'], 'done after the violation')
})

t.test('an empty first server line is no greeting', async (t) => {
  const { a, ev } = harness('imap')
  a.deliver(false, b('\r\n* OK IMAP ready\r\n'), 1)
  t.same(ev, ['violation:imap: unexpected greeting'])
})

t.test('a greeting split across segments still confirms', async (t) => {
  const { a, ev } = harness('imap')
  a.deliver(false, b('* O'), 1)
  a.deliver(false, b('K ready\r\n'), 2)
  a.deliver(true, b('a1 CAPABILITY\r\n'), 3)
  t.same(ev, ['confirm:imap'])
})

t.test('a wrong first line that starts with the lead byte is still checked by the pattern', async (t) => {
  const { a, ev } = harness('smtp')
  a.deliver(false, b('2'), 1)
  a.deliver(false, b('21 nope\r\n'), 2)
  t.same(ev, ['violation:smtp: unexpected greeting'])
})
