/** Schemas shared by the route plugins. */
import { Type } from '@sinclair/typebox'

/** The JSON error every route answers with (errors.ts). */
export const ErrorSchema = Type.Object({
  statusCode: Type.Integer(),
  code: Type.String({ description: 'stable COLLECTOR_ERR_* code' }),
  error: Type.String(),
  message: Type.String(),
})
