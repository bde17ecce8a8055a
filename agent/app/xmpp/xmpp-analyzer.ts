/**
 * XMPP, only as far as Zeek's analyzer goes (src/analyzer/protocol/xmpp): confirms the service
 * on the client's `<stream:stream`, and when the client's `<starttls` is answered by the server's
 * `<proceed`, hands the connection to the TLS analyzer (`upgrade('ssl')`) and stops. It stops
 * too once the stream is past the point where STARTTLS could happen (success, message,
 * presence, db:result, db:verify). Ports 5222 (client) and 5269 (server-to-server).
 *
 * Bounds: a partial tag is buffered up to MAX_TAG bytes per direction; longer tags are dropped
 * (counted as anomaly `xmpp_tag_too_long`).
 */
import type { AppAnalyzer, AppAnalyzerFactory, AppConnInfo, AppOutput } from '../app-analyzer.js'

const MAX_TAG = 4096
const SKIP_TOKENS = new Set(['success', 'message', 'db:result', 'db:verify', 'presence'])

/** Name of each start/empty tag in `text` (after "<", up to whitespace, "/" or ">"). */
export function xmppTagNames(text: string): { names: string[]; rest: string } {
  const names: string[] = []
  let p = 0
  for (;;) {
    const lt = text.indexOf('<', p)
    if (lt < 0) return { names, rest: '' }
    const gt = text.indexOf('>', lt)
    if (gt < 0) return { names, rest: text.slice(lt) }
    const m = /^<([^\s/>?!]+)/.exec(text.slice(lt, gt + 1))
    if (m) names.push(m[1]!)
    p = gt + 1
  }
}

class XmppSession implements AppAnalyzer {
  private readonly carry = ['', '']
  private clientStartTls = false
  private done = false

  constructor(private readonly out: AppOutput) {}

  deliver(isOrig: boolean, data: Buffer): void {
    if (this.done) return
    const d = isOrig ? 0 : 1
    const { names, rest } = xmppTagNames(this.carry[d] + data.toString('latin1'))
    this.carry[d] = rest.length > MAX_TAG ? '' : rest
    if (rest.length > MAX_TAG) this.out.anomaly('xmpp_tag_too_long')
    for (const token of names) {
      const colon = token.indexOf(':')
      const bare = colon >= 0 && colon + 1 < token.length ? token.slice(colon + 1) : token
      if (isOrig && token === 'stream:stream') this.out.confirm('xmpp')
      if (SKIP_TOKENS.has(token)) { this.done = true; return }
      if (isOrig && (token === 'starttls' || bare === 'starttls')) this.clientStartTls = true
      if (!isOrig && (token === 'proceed' || bare === 'proceed')) {
        if (this.clientStartTls) {
          this.done = true
          this.out.upgrade('ssl')
          return
        }
        this.out.anomaly('XMPP: proceed without starttls')
      }
    }
  }

  gap(): void {
    this.done = true
  }

  finish(): void {
    this.done = true
  }
}

export const XMPP_ANALYZER: AppAnalyzerFactory = {
  name: 'xmpp',
  transports: ['tcp'],
  ports: [5222, 5269],
  create: (_conn: AppConnInfo, out: AppOutput) => new XmppSession(out),
}
