/** Every error leaves as JSON with a stable code (errors.ts); validation errors name the parameter. */
import type { FastifyError, FastifyInstance } from 'fastify'
import { CollectorError, errorBody } from '../errors.js'

export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, req, reply) => {
    let e: CollectorError
    if (err instanceof CollectorError) e = err
    else if (err.validation) {
      const v = err.validation[0]
      const where = err.validationContext ?? 'request'
      const param = v?.instancePath ? v.instancePath.replace(/^\//, '').replace(/\//g, '.') : (v?.params as { missingProperty?: string; additionalProperty?: string } | undefined)?.missingProperty ?? (v?.params as { additionalProperty?: string } | undefined)?.additionalProperty ?? ''
      e = new CollectorError('BAD_REQUEST', `${where}${param ? ` parameter "${param}"` : ''}: ${v === undefined ? err.message : validationMessage(v, err.validation)}`)
    } else if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') e = new CollectorError('BODY_TOO_LARGE', err.message)
    else if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') e = new CollectorError('UNSUPPORTED_MEDIA_TYPE', err.message)
    else if (err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || (err.statusCode === 400)) e = new CollectorError('BAD_REQUEST', err.message)
    else {
      req.log.error({ err }, 'request failed')
      e = new CollectorError('INTERNAL')
    }
    void reply.code(e.statusCode).send(errorBody(e))
  })
  app.setNotFoundHandler((req, reply) => {
    const e = new CollectorError('NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`)
    void reply.code(404).send(errorBody(e))
  })
}

type ValidationError = NonNullable<FastifyError['validation']>[number]

/**
 * AJV's message, except for a choice among literals (a TypeBox union of literals is an anyOf
 * of consts, reported as "must be equal to constant"): the allowed values are listed instead.
 */
function validationMessage(v: ValidationError, all: ValidationError[]): string {
  if (v.keyword !== 'const') return v.message ?? 'invalid'
  const allowed = all.filter((x) => x.keyword === 'const' && x.instancePath === v.instancePath).map((x) => String((x.params as { allowedValue?: unknown }).allowedValue))
  return `must be one of ${allowed.join(', ')}`
}
