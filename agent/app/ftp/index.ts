/**
 * FTP analyzer factories: the control channel on 21 and 2811/tcp (Zeek's registration) and the
 * ftp-data analyzer attached to the data connections it announces. Both share one bounded
 * table of expected data channels (ftp-data-channels.ts).
 */
import type { AppAnalyzerFactory } from '../app-analyzer.js'
import { FtpAnalyzer } from './ftp-analyzer.js'
import { FtpDataChannels } from './ftp-data-channels.js'
import { createFtpDataFactory } from './ftp-data-analyzer.js'

export { FTP_LOG } from './ftp-log.js'

/** [control, data] factories sharing their data-channel table. */
export function createFtpAnalyzerFactories(channels = new FtpDataChannels()): AppAnalyzerFactory[] {
  return [
    {
      name: 'ftp',
      transports: ['tcp'],
      ports: [21, 2811],
      create: (conn, out) => new FtpAnalyzer(conn, out, channels),
    },
    createFtpDataFactory(channels),
  ]
}
