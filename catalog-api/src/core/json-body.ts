// The JSON body parser: refuses bodies nested deeper than the configured limit before parsing
// them (a deep body costs the parser and the validator stack), and refuses prototype poisoning.
import sjson from 'secure-json-parse';
import { ProblemError } from './errors.js';

/** Nesting depth of a JSON text, counted without parsing it; stops as soon as `max` is passed. */
export function jsonDepthExceeds(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22 /* " */) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (++depth > max) return true;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      depth--;
    }
  }
  return false;
}

export function parseJsonBody(text: string, maxDepth: number): unknown {
  if (text.trim() === '') throw new ProblemError('malformed_json', 'The request body is empty; send a JSON document.');
  if (jsonDepthExceeds(text, maxDepth)) {
    throw new ProblemError('json_too_deep', `The request body is nested more than ${maxDepth} levels deep.`);
  }
  try {
    return sjson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' });
  } catch (error) {
    const reason = error instanceof Error ? error.message : 'invalid JSON';
    throw new ProblemError('malformed_json', `The request body is not valid JSON: ${reason}`);
  }
}
