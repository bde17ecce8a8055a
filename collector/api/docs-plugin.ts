/**
 * OpenAPI 3 from the routes' TypeBox schemas (@fastify/swagger) at `/openapi.json`, and
 * the browsable docs (@fastify/swagger-ui) at `/docs`. Registered before the routes so
 * every route is in the document (call at the root, before any route).
 */
import type { FastifyInstance } from 'fastify'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'

export function registerDocs(app: FastifyInstance, version: string): void {
  void app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'Telltale collector API', version, description: 'Flows, hosts, topology, events and agents from every Telltale sensor. Send "Authorization: Bearer <token>". Errors are JSON with a stable COLLECTOR_ERR_* code.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  })
  void app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true })
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger())
}
