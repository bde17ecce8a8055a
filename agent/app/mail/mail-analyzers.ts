/**
 * Service identification and STARTTLS for the line-oriented mail protocols (SMTP, POP3,
 * IMAP): enough to fill conn.log's `service` as Zeek does and to hand the stream to the TLS
 * analyzer after a successful STARTTLS / STLS. No mail log is written (not in Zeek's base
 * set for POP3/IMAP; smtp.log is future work).
 */
import type { AppAnalyzer, AppAnalyzerFactory, AppConnInfo, AppOutput } from '../app-analyzer.js'
import { LineBuffer } from './line-buffer.js'

interface MailDialect {
  name: string
  ports: number[]
  /** Server greeting that identifies the protocol. */
  greeting: RegExp
  /** The byte every greeting starts with (a cheap test before the regex). */
  lead: number
  /** A client command of the protocol. */
  command: RegExp
  /** Client asks for TLS. */
  starttls: RegExp
  /** Server accepts it. */
  tlsOk: RegExp
}

const DIALECTS: MailDialect[] = [
  { name: 'smtp', ports: [25, 587], greeting: /^220[ -]/, lead: 0x32, command: /^(EHLO|HELO)\b/i, starttls: /^STARTTLS\s*$/i, tlsOk: /^220[ -]/ },
  { name: 'pop3', ports: [110], greeting: /^\+OK\b/, lead: 0x2b, command: /^(USER|PASS|APOP|STAT|LIST|RETR|DELE|QUIT|CAPA|STLS|TOP|UIDL|AUTH)\b/i, starttls: /^STLS\s*$/i, tlsOk: /^\+OK\b/ },
  { name: 'imap', ports: [143], greeting: /^\* (OK|PREAUTH)\b/i, lead: 0x2a, command: /^\S+ (CAPABILITY|LOGIN|AUTHENTICATE|SELECT|LOGOUT|STARTTLS|NOOP|ID)\b/i, starttls: /^\S+ STARTTLS\s*$/i, tlsOk: /^\S+ OK\b/i },
]

class MailAnalyzer implements AppAnalyzer {
  private readonly lines = [new LineBuffer(), new LineBuffer()]
  private sawGreeting = false
  private sawCommand = false
  private confirmed = false
  private tlsRequested = false
  private done = false
  /** The server's first line is known not to be a greeting (see deliver). */
  private doomed = false

  constructor(private readonly d: MailDialect, private readonly out: AppOutput) {}

  deliver(isOrig: boolean, data: Buffer): void {
    if (this.done) return
    if (!this.doomed && !isOrig && !this.sawGreeting && this.lines[1]!.empty && data.length > 0 && data[0] !== this.d.lead) {
      // The server's first line cannot be a greeting (each greeting pattern starts with the
      // dialect's lead byte), so it will end in a violation, and until then no client line
      // can matter (confirmation needs the greeting). Nothing is turned into text any more:
      // non-mail traffic on a mail port kept up to 4 KiB of partial-line text per direction,
      // live across collections.
      this.doomed = true
      this.lines[0]!.clear()
    }
    if (this.doomed) {
      if (!isOrig && data.indexOf(0x0a) >= 0) this.unexpectedGreeting()
      return
    }
    this.lines[isOrig ? 0 : 1]!.push(data, (line) => this.line(isOrig, line))
  }

  private unexpectedGreeting(): void {
    this.out.violation(`${this.d.name}: unexpected greeting`)
    this.done = true
  }

  private line(isOrig: boolean, line: string): void {
    if (this.done) return
    const d = this.d
    if (isOrig) {
      if (d.command.test(line)) this.sawCommand = true
      if (d.starttls.test(line)) this.tlsRequested = true
    } else {
      if (!this.sawGreeting) {
        if (!d.greeting.test(line)) { this.unexpectedGreeting(); return }
        this.sawGreeting = true
      } else if (this.tlsRequested && d.tlsOk.test(line)) {
        this.done = true
        this.out.upgrade('ssl')
        return
      }
    }
    if (!this.confirmed && this.sawGreeting && this.sawCommand) {
      this.confirmed = true
      this.out.confirm(d.name)
    }
  }

  finish(): void {}
}

export const MAIL_ANALYZERS: AppAnalyzerFactory[] = DIALECTS.map((d) => ({
  name: d.name,
  transports: ['tcp'] as const,
  ports: d.ports,
  detect: (isOrig: boolean, first: Buffer): boolean => {
    // Every greeting starts with a fixed byte: most payloads are ruled out before any string is made.
    if (isOrig || first.length === 0 || first[0] !== d.lead) return false
    // The first line of the first 256 bytes, without its CRLF / LF.
    const n = Math.min(first.length, 256)
    let end = first.indexOf(0x0a)
    if (end < 0 || end >= n) end = n
    else if (end > 0 && first[end - 1] === 0x0d) end--
    return d.greeting.test(first.toString('latin1', 0, end))
  },
  // The first line within the first 256 bytes decides; originators are never detected.
  detectSettled: (isOrig: boolean, first: Buffer): boolean => isOrig || first.length >= 256 || (first.length > 0 && first[0] !== d.lead),
  create: (_conn: AppConnInfo, out: AppOutput) => new MailAnalyzer(d, out),
}))
