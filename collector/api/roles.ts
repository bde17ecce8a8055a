/**
 * Who may call what (the RBAC matrix; docs/api.md renders the same table and the RBAC test
 * walks it). `viewer` sees aggregates (topology, hosts, stats, agents, time series, the live
 * stream); `analyst` also reads raw records (flows, top, events, app records); `admin` everything,
 * including tokens, the audit log, agent revocation and topology rebuilds. `agent` and
 * `enroll` tokens are for ingest and enrollment only.
 */
import type { TokenRole } from '../storage/index.js'

export const READ_AGGREGATES: readonly TokenRole[] = ['admin', 'analyst', 'viewer']
export const READ_RECORDS: readonly TokenRole[] = ['admin', 'analyst']
export const ADMIN_ONLY: readonly TokenRole[] = ['admin']

/** Every authenticated API route (method, path) → roles allowed. */
export const ROUTE_ROLES: ReadonlyArray<{ method: 'GET' | 'POST' | 'DELETE'; url: string; roles: readonly TokenRole[] }> = [
  { method: 'GET', url: '/api/v1/flows', roles: READ_RECORDS },
  { method: 'GET', url: '/api/v1/flows/top', roles: READ_RECORDS },
  { method: 'GET', url: '/api/v1/timeseries', roles: READ_AGGREGATES },
  { method: 'GET', url: '/api/v1/events', roles: READ_RECORDS },
  { method: 'GET', url: '/api/v1/app-records', roles: READ_RECORDS },
  { method: 'GET', url: '/api/v1/hosts', roles: READ_AGGREGATES },
  { method: 'GET', url: '/api/v1/hosts/:id', roles: READ_AGGREGATES },
  { method: 'GET', url: '/api/v1/topology', roles: READ_AGGREGATES },
  { method: 'POST', url: '/api/v1/topology/rebuild', roles: ADMIN_ONLY },
  { method: 'GET', url: '/api/v1/agents', roles: READ_AGGREGATES },
  { method: 'GET', url: '/api/v1/agents/:id', roles: READ_AGGREGATES },
  { method: 'DELETE', url: '/api/v1/agents/:id', roles: ADMIN_ONLY },
  { method: 'GET', url: '/api/v1/stats', roles: READ_AGGREGATES },
  { method: 'GET', url: '/api/v1/stream', roles: READ_AGGREGATES },
  { method: 'GET', url: '/api/v1/tokens', roles: ADMIN_ONLY },
  { method: 'POST', url: '/api/v1/tokens', roles: ADMIN_ONLY },
  { method: 'DELETE', url: '/api/v1/tokens/:id', roles: ADMIN_ONLY },
  { method: 'POST', url: '/api/v1/enrollment-tokens', roles: ADMIN_ONLY },
  { method: 'GET', url: '/api/v1/audit', roles: ADMIN_ONLY },
  { method: 'GET', url: '/metrics', roles: READ_AGGREGATES },
]
