/**
 * Reads of the merged topology see what was acked: ingest acks a batch once it is durable
 * and the merge follows (TopologyService), so a route that answers from the topology first
 * waits until the merge holds every batch acked before the request — at most
 * `topology.read_wait_ms`. When the merge is further behind than that (a burst of ingest),
 * the answer is given anyway with `x-topology-backlog-batches` saying how many acked
 * batches it is missing.
 *
 * `/topology` waits only when it is going to build an answer: a cached answer within
 * `topology.answer_max_staleness_ms` (stale-while-revalidate, topology-answers.ts) is served
 * at once — waiting for the merge would not make it newer — with the backlog header when the
 * merge is behind (reportTopologyBacklog).
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { ApiContext } from './api-context.js'

export function waitForTopology(ctx: ApiContext): (req: FastifyRequest, reply: FastifyReply) => Promise<void> {
  return async (_req, reply) => {
    if (await ctx.topology.caughtUp(ctx.topologyReadWaitMs ?? 0)) return
    void reply.header('x-topology-backlog-batches', String(ctx.topology.backlog))
  }
}

/** Says how many acked batches the merge does not hold yet (`x-topology-backlog-batches`), without waiting. */
export function reportTopologyBacklog(ctx: ApiContext): (req: FastifyRequest, reply: FastifyReply) => Promise<void> {
  return async (_req, reply) => {
    const n = ctx.topology.backlog
    if (n > 0) void reply.header('x-topology-backlog-batches', String(n))
  }
}
