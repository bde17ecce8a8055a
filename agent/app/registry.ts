/**
 * Every application analyzer the agent knows, and the Zeek-style logs they write.
 * One line per analyzer module; the flow layer attaches them by port and by detection.
 */
import type { AppAnalyzerFactory, AppLogSpec } from './app-analyzer.js'
import { MAIL_ANALYZERS } from './mail/mail-analyzers.js'
import { NTP_ANALYZER } from './ntp/ntp-analyzer.js'
import { createSshAnalyzerFactory, SSH_LOG } from './ssh/index.js'
import { createDhcpAnalyzerFactory, DHCP_LOG } from './dhcp/index.js'
import { createFtpAnalyzerFactories, FTP_LOG } from './ftp/index.js'
import { SSL_LOG, TLS_ANALYZER, X509_LOG } from './tls/index.js'
import { XMPP_ANALYZER } from './xmpp/xmpp-analyzer.js'
import { dnsAnalyzerFactory, DNS_LOG } from './dns/index.js'
import { HTTP_ANALYZER, HTTP_LOG } from './http/index.js'

export const APP_ANALYZERS: AppAnalyzerFactory[] = [
  ...MAIL_ANALYZERS,
  NTP_ANALYZER,
  createSshAnalyzerFactory(),
  createDhcpAnalyzerFactory(),
  ...createFtpAnalyzerFactories(),
  TLS_ANALYZER,
  XMPP_ANALYZER,
  dnsAnalyzerFactory,
  HTTP_ANALYZER,
]

export const APP_LOGS: AppLogSpec[] = [
  SSH_LOG,
  DHCP_LOG,
  FTP_LOG,
  SSL_LOG,
  X509_LOG,
  DNS_LOG,
  HTTP_LOG,
]
