// `_elements` (FHIR R4 search.html#elements): an app asks for some top-level elements of each
// resource. The answer keeps what identifies the resource and what FHIR requires of it, and is
// tagged SUBSETTED so that nobody takes it for the whole resource (or writes it back as one).
import { FhirError } from '../../core/fhir-error.js';
import { loadSpec } from '../../core/spec.js';
import { choiceElements, type FhirResource, type FhirResourceType } from './resources.js';

export const SUBSETTED = { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'SUBSETTED' } as const;

/** A FHIR element name: letters and digits, starting with a lower-case letter (FHIR R4 §2.18.0.1). */
const elementName = /^[a-z][A-Za-z0-9]{0,63}$/;
const MAX_ELEMENTS = 30;

const refuse = (message: string) => new FhirError(400, 'invalid', `_elements: ${message}`, { expression: ['_elements'] });

/** The element names of an `_elements` value, without repeats, in the order given; throws a 400 naming `_elements`. */
export function parseElements(value: string): string[] {
  const names = value.split(',').map((name) => name.trim());
  const bad = names.find((name) => !elementName.test(name));
  if (bad !== undefined) {
    throw refuse(bad === '' ? 'an element name is missing (names are separated by single commas)' : `${JSON.stringify(bad)} is not an element name (letters and digits, starting with a lower-case letter)`);
  }
  const unique = [...new Set(names)];
  if (unique.length > MAX_ELEMENTS) throw refuse(`at most ${MAX_ELEMENTS} elements`);
  return unique;
}

/** Whether the resource's key `key` is the element `name` or, for a choice element, one of its types. */
function isElement(key: string, name: string, choices: readonly string[]): boolean {
  if (key === name) return true;
  return choices.includes(name) && key.startsWith(name) && /^[A-Z]/.test(key.slice(name.length));
}

/**
 * The resource reduced to `resourceType`, `id`, `meta`, the elements named, and the elements
 * `mandatory` names (FHIR: servers should always return them), with the SUBSETTED tag.
 */
export function subsetted<R extends FhirResource>(resource: R, names: readonly string[], mandatory: readonly string[]): R {
  const choices = choiceElements[resource.resourceType];
  const kept = ['resourceType', 'id', 'meta', ...mandatory, ...names];
  const subset = Object.fromEntries(Object.entries(resource).filter(([key]) => kept.some((name) => isElement(key, name, choices)))) as R;
  const tags = (resource.meta?.tag ?? []).filter((tag) => !(tag.system === SUBSETTED.system && tag.code === SUBSETTED.code));
  subset.meta = { ...resource.meta, tag: [...tags, { ...SUBSETTED }] };
  return subset;
}

let required: Map<string, readonly string[]> | undefined;

/** The elements the spec's schema of the type requires: the serializer refuses a resource without them. */
export function mandatoryElements(resourceType: FhirResourceType): readonly string[] {
  required ??= new Map(
    Object.entries(loadSpec().components.schemas as Record<string, { required?: string[] }>).map(([name, schema]) => [name, schema.required ?? []]),
  );
  return required.get(resourceType) ?? [];
}
