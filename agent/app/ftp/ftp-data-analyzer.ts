/**
 * ftp-data analyzer, attached by the dispatcher to connections an FTP control session announced
 * (expected connections). It does not parse the transfer: the first payload of each direction
 * is a file for Zeek's file analysis, whose id (fuid, "F" + base62) is given to the control
 * session's current command, as base/protocols/ftp/files.zeek does.
 */
import type { AppAnalyzer, AppAnalyzerFactory, AppConnInfo } from '../app-analyzer.js'
import { UidGenerator } from '../../flow/uid.js'
import type { FtpDataChannels } from './ftp-data-channels.js'

class FtpDataAnalyzer implements AppAnalyzer {
  private readonly seen = [false, false]

  constructor(private readonly conn: AppConnInfo, private readonly channels: FtpDataChannels, private readonly fuids: UidGenerator) {}

  deliver(isOrig: boolean, data: Buffer, ts: number): void {
    const d = isOrig ? 0 : 1
    if (this.seen[d] || data.length === 0) return
    this.seen[d] = true
    const target = this.channels.get(this.conn.respH, this.conn.respP, ts)
    if (target !== undefined) target.fuid = this.fuids.next()
  }

  finish(): void {}
}

export function createFtpDataFactory(channels: FtpDataChannels): AppAnalyzerFactory {
  const fuids = new UidGenerator('F')
  return {
    name: 'ftp-data',
    transports: ['tcp'],
    ports: [],
    create: (conn) => new FtpDataAnalyzer(conn, channels, fuids),
  }
}
