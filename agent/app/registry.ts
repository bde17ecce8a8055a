/**
 * Every application analyzer the agent knows, and the Zeek-style logs they write.
 * One line per analyzer module; the flow layer attaches them by port and by detection.
 */
import type { AppAnalyzerFactory, AppLogSpec } from './app-analyzer.js'
import { MAIL_ANALYZERS } from './mail/mail-analyzers.js'
import { NTP_ANALYZER } from './ntp/ntp-analyzer.js'
import { createSshAnalyzerFactory, SSH_LOG } from './ssh/index.js'
import { createDhcpAnalyzerFactory, DHCP_LOG } from './dhcp/index.js'

export const APP_ANALYZERS: AppAnalyzerFactory[] = [
  ...MAIL_ANALYZERS,
  NTP_ANALYZER,
  createSshAnalyzerFactory(),
  createDhcpAnalyzerFactory(),
]

export const APP_LOGS: AppLogSpec[] = [
  SSH_LOG,
  DHCP_LOG,
]
