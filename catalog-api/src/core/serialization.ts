// Response serialization: fastify's own serializer compiler (fast-json-stringify, with the spec's
// components as its external schemas), its serializers compiled once per process and shared.
import { SerializerSelector } from '@fastify/fast-json-stringify-compiler';
import type { FastifySerializerCompiler } from 'fastify';
import type { JsonObject } from './spec.js';

type Serializer = (payload: unknown) => string;

const buildSerializers = SerializerSelector();

/**
 * Serializers compiled in this process, by the text of the components document, then by the text
 * of the response schema. A server's routes answer from few distinct schemas (the same problem
 * document for most errors of every route, a GET route's HEAD twin: 64 distinct schemas for 731
 * responses), and a process may start several servers (tests do): each schema is compiled once.
 * The spec does not change while the process runs, and a serializer is a pure function of its
 * schemas.
 */
const byComponents = new Map<string, Map<string, Serializer>>();

export interface SerializerCompilerOptions {
  /**
   * Compile each serializer when it is first called rather than when fastify asks for it (at
   * start): for test servers, which use a few routes each. The serializers are the same.
   */
  onFirstUse?: boolean;
}

/**
 * The compiler fastify uses by default, given the components document as its one external schema
 * (as addSchema registers it), with its serializers shared.
 */
export function createSerializerCompiler(components: JsonObject, options: SerializerCompilerOptions = {}): FastifySerializerCompiler<JsonObject> {
  let serializers: Map<string, Serializer> | undefined;
  const externalSchemas = { [String(components.$id)]: components };
  const compile = (route: Parameters<FastifySerializerCompiler<JsonObject>>[0]): Serializer => {
    if (!serializers) {
      const key = JSON.stringify(components);
      serializers = byComponents.get(key);
      if (!serializers) byComponents.set(key, (serializers = new Map()));
    }
    const id = JSON.stringify(route.schema);
    let serialize = serializers.get(id);
    if (!serialize) {
      // A factory per route, as fastify makes one.
      serialize = buildSerializers(externalSchemas)(route as never) as Serializer;
      serializers.set(id, serialize);
    }
    return serialize;
  };
  return (route) => {
    if (!options.onFirstUse) return compile(route);
    let serialize: Serializer | undefined;
    return (payload: unknown) => (serialize ??= compile(route))(payload);
  };
}
