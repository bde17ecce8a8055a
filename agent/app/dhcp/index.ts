/**
 * DHCP analyzer factory: 67, 68 and 4011/udp (Zeek's registration). The factory owns the
 * transaction table shared by all DHCP connections (a DHCP exchange spans several
 * "connections"); it is bounded (DhcpTransactionConfig.maxTransactions) and written out as
 * transactions expire or their connections end.
 */
import type { AppAnalyzerFactory } from '../app-analyzer.js'
import { DhcpAnalyzer } from './dhcp-analyzer.js'
import { DhcpTransactions, type DhcpTransactionConfig } from './dhcp-transactions.js'

export { DHCP_LOG } from './dhcp-log.js'

export interface DhcpAnalyzerFactory extends AppAnalyzerFactory {
  readonly transactions: DhcpTransactions
}

export function createDhcpAnalyzerFactory(cfg: Partial<DhcpTransactionConfig> = {}): DhcpAnalyzerFactory {
  const transactions = new DhcpTransactions(cfg)
  return {
    name: 'dhcp',
    transports: ['udp'],
    ports: [67, 68, 4011],
    transactions,
    create: (conn, out) => new DhcpAnalyzer(conn, out, transactions),
  }
}
