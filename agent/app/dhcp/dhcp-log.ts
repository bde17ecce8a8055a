/** dhcp.log columns as Zeek 9.1 writes them (base/protocols/dhcp/main.zeek). */
import type { AppLogSpec } from '../app-analyzer.js'

export const DHCP_LOG: AppLogSpec = Object.freeze({
  path: 'dhcp',
  fields: Object.freeze([
    { name: 'ts', type: 'time' },
    { name: 'uids', type: 'set[string]' },
    { name: 'client_addr', type: 'addr' },
    { name: 'server_addr', type: 'addr' },
    { name: 'mac', type: 'string' },
    { name: 'host_name', type: 'string' },
    { name: 'client_fqdn', type: 'string' },
    { name: 'domain', type: 'string' },
    { name: 'requested_addr', type: 'addr' },
    { name: 'assigned_addr', type: 'addr' },
    { name: 'lease_time', type: 'interval' },
    { name: 'client_message', type: 'string' },
    { name: 'server_message', type: 'string' },
    { name: 'msg_types', type: 'vector[string]' },
    { name: 'duration', type: 'interval' },
  ]),
}) as AppLogSpec
