/** Public surface of the DNS analyzer. */
export { dnsAnalyzerFactory, DnsAnalyzer } from './dns-analyzer.js'
export { DNS_LOG, dnsRow, zeekString } from './dns-log.js'
export { parseDnsMessage, parseDnsHeader, type DnsMessage, type DnsHeader, type DnsAnswer, type DnsQuestion } from './dns-message.js'
export { DnsTransactions, type DnsInfo } from './dns-transactions.js'
export { DnsTcpFramer } from './dns-tcp-framer.js'
export { decodeNetbiosName, decodeNetbiosNameType } from './netbios-name.js'
export { dnsObservations, reverseNameToAddr } from './dns-observations.js'
