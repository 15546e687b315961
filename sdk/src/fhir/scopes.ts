// The same scope algebra as the types, at run time: plain JavaScript, or a scope set known only
// when the app runs, gets a clear error before any request leaves.
import { MesError } from '../errors.js';
import type { FhirInteraction } from './types.js';

const letters: Record<FhirInteraction, string> = { read: 'r', search: 's', create: 'c', update: 'u' };
const v1: Record<string, string> = { read: 'rs', write: 'cud', '*': 'cruds' };

/** Whether `scopes` grant `interaction` on `type` (SMART v2, with v1 aliases and granular scopes). */
export function scopesAllow(scopes: readonly string[], type: string, interaction: FhirInteraction): boolean {
  return scopes.some((scope) => {
    const match = /^(patient|user)\/([A-Za-z]+|\*)\.([^?]+)(\?.*)?$/.exec(scope);
    if (!match) return false;
    const [, , target, permissions] = match;
    return (target === type || target === '*') && (v1[permissions!] ?? permissions!).includes(letters[interaction]);
  });
}

export function checkScopes(scopes: readonly string[] | undefined, type: string, interaction: FhirInteraction): void {
  if (scopes === undefined || scopesAllow(scopes, type, interaction)) return;
  const needed = `patient/${type}.${letters[interaction]}`;
  throw new MesError(
    `${interaction} of ${type} is outside this client's scopes (${scopes.join(' ') || 'none'}): it needs ${needed}` +
      ` (or patient/${type}.read for v1). Add it to the scope of createClient() and authorize again.`,
  );
}
