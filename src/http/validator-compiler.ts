import { Ajv } from 'ajv';
import type { FastifySchemaCompiler } from 'fastify';

// Query strings and path parameters arrive as text, so "limit=5" must become 5. Bodies are JSON
// with real types: a number where a string belongs is reported, not silently converted.
const coercing = new Ajv({ coerceTypes: 'array', useDefaults: true, removeAdditional: false, strict: false });
const exact = new Ajv({ coerceTypes: false, useDefaults: true, removeAdditional: false, strict: false });

/** The app's one validator compiler: coercion for URL parts only. */
export const validatorCompiler: FastifySchemaCompiler<object> = ({ schema, httpPart }) =>
  (httpPart === 'body' ? exact : coercing).compile(schema);

/**
 * Compiles a schema for a value a route parses itself (Slack's form-encoded JSON payload), with
 * the same exact types as bodies. The function is a type guard; its `errors` say what failed.
 */
export function compileExact<T>(schema: object) {
  return exact.compile<T>(schema);
}
