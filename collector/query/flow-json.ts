/** A stored Flow → the API's JSON (Zeek conn.log names; times as ISO 8601 and µs). Pure. */
import { flowCommunityId, type Flow } from '../../protocol/index.js'
import { ipText, macText } from '../topology/addresses.js'
import { l4Of } from '../topology/flow-view.js'

export const CONN_STATES = ['', 'S0', 'S1', 'SF', 'REJ', 'S2', 'S3', 'RSTO', 'RSTR', 'RSTOS0', 'RSTRH', 'SH', 'SHR', 'OTH']

export interface FlowJson {
  id: string
  agent_id: string
  ts: string
  ts_us: number
  uid: string
  orig_h: string
  orig_p: number
  resp_h: string
  resp_p: number
  proto: string
  service: string
  duration_us: number | null
  orig_bytes: number | null
  resp_bytes: number | null
  conn_state: string
  history: string
  missed_bytes: number
  orig_pkts: number
  orig_ip_bytes: number
  resp_pkts: number
  resp_ip_bytes: number
  community_id: string
  vlan: number | null
  orig_l2_addr: string
  resp_l2_addr: string
  local_orig: boolean | null
  local_resp: boolean | null
  iface: string
  interim: boolean
}

export function flowJson(id: string, agentId: string, f: Flow): FlowJson {
  return {
    id, agent_id: agentId, ts: new Date(Math.floor(f.tsUs / 1000)).toISOString(), ts_us: f.tsUs, uid: f.uid,
    orig_h: ipText(f.origH), orig_p: f.origP, resp_h: ipText(f.respH), resp_p: f.respP, proto: l4Of(f.proto), service: f.service,
    duration_us: f.durationUs ?? null, orig_bytes: f.origBytes ?? null, resp_bytes: f.respBytes ?? null,
    conn_state: CONN_STATES[f.connState] ?? '', history: f.history, missed_bytes: f.missedBytes,
    orig_pkts: f.origPkts, orig_ip_bytes: f.origIpBytes, resp_pkts: f.respPkts, resp_ip_bytes: f.respIpBytes,
    community_id: flowCommunityId(f), vlan: f.vlan ?? null, orig_l2_addr: macText(f.origL2Addr), resp_l2_addr: macText(f.respL2Addr),
    local_orig: f.localOrig ?? null, local_resp: f.localResp ?? null, iface: f.iface, interim: f.interim,
  }
}
