/**
 * Reads of the merged topology see what was acked: ingest acks a batch once it is durable
 * and the merge follows (TopologyService), so a route that answers from the topology first
 * waits until the merge holds every batch acked before the request — at most
 * `topology.read_wait_ms`. When the merge is further behind than that (a burst of ingest),
 * the answer is given anyway with `x-topology-backlog-batches` saying how many acked
 * batches it is missing.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { ApiContext } from './api-context.js'

export function waitForTopology(ctx: ApiContext): (req: FastifyRequest, reply: FastifyReply) => Promise<void> {
  return async (_req, reply) => {
    if (await ctx.topology.caughtUp(ctx.topologyReadWaitMs ?? 0)) return
    void reply.header('x-topology-backlog-batches', String(ctx.topology.backlog))
  }
}
