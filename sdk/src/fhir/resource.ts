// client.fhir: the patient-data API (FHIR R4) with the session's DPoP-bound token. read, search
// (pages that follow the Bundle's `next` link) and create, typed per resource type from the spec
// and limited, at compile time and at run time, to what the client's scopes allow.
import { MesError } from '../errors.js';
import type { ApiPromise } from '../internal/api-promise.js';
import { path } from '../internal/path.js';
import type { Query, RequestOptions, Transport } from '../internal/transport.js';
import { Page, PagePromise, type PageData, type PageFetcher } from '../pagination.js';
import { checkScopes } from './scopes.js';
import type {
  AllowedTypes,
  CapabilityStatement,
  CreatableResourceType,
  FhirBundle,
  FhirCreateInput,
  FhirResource,
  FhirResourceType,
  FhirSearchParams,
  FhirUpdateInput,
  UpdatableResourceType,
} from './types.js';

const fhirJson = 'application/fhir+json';

/** Every resource type the FHIR API serves. */
export const fhirResourceTypes = [
  'Patient',
  'Observation',
  'Immunization',
  'AllergyIntolerance',
  'Condition',
  'MedicationStatement',
  'DocumentReference',
  'Appointment',
  'Communication',
] as const satisfies readonly FhirResourceType[];

/** The resource types the API accepts creates of. */
export const creatableResourceTypes = ['Observation', 'DocumentReference', 'Appointment', 'Communication'] as const satisfies readonly CreatableResourceType[];

/** The resource types the API accepts updates of. */
export const updatableResourceTypes = ['Appointment'] as const satisfies readonly UpdatableResourceType[];

/** Options of an update. */
export interface UpdateOptions extends RequestOptions {
  /**
   * The version the change is based on: the resource's `meta.versionId`, or its ETag (`W/"3"`).
   * With it, a change made by someone else in between fails with a ConflictError of status 412
   * instead of being overwritten. `true` takes it from the resource's `meta.versionId`.
   */
  ifMatch?: string | true;
}

interface AnyBundle {
  entry?: { resource?: unknown }[];
  link?: { relation: string; url: string }[];
}

/** A page of search results: the resources, and the searchset Bundle they came in. */
export class FhirPage<T> extends Page<T> {
  readonly bundle: unknown;

  constructor(data: PageData<T> & { bundle?: unknown }, fetchPage: PageFetcher<T>) {
    super(data, fetchPage);
    this.bundle = data.bundle;
  }

  protected override wrap(data: PageData<T>, fetchPage: PageFetcher<T>): Page<T> {
    return new FhirPage(data, fetchPage);
  }
}

/** A search page of `T`, with its Bundle typed. */
export type FhirSearchPage<T extends FhirResourceType> = FhirPage<FhirResource<T>> & { readonly bundle: FhirBundle<T> };

function checkType(type: string, among: readonly string[], what: string): void {
  if (!among.includes(type)) {
    throw new MesError(`${JSON.stringify(type)} is not a resource type the FHIR API ${what} (${among.join(', ')}).`);
  }
}

/** The FHIR API, limited to what `Scopes` allow. */
export class FhirApi<Scopes extends readonly string[] = readonly string[]> {
  readonly #transport: Transport;
  readonly #public: Transport;
  readonly #scopes: readonly string[] | undefined;

  /** `transport` sends the session's token; `publicTransport`, nothing (for the metadata). */
  constructor(transport: Transport, publicTransport: Transport, scopes: readonly string[] | undefined) {
    this.#transport = transport;
    this.#public = publicTransport;
    this.#scopes = scopes;
  }

  /** GET /fhir/metadata: the CapabilityStatement (no token needed). */
  capabilities(options?: RequestOptions): ApiPromise<CapabilityStatement> {
    return this.#public.request({ method: 'GET', path: 'metadata', mediaType: fhirJson }, options);
  }

  /** GET /fhir/{type}/{id}: one resource of the patient. Needs `patient/{type}.r`. */
  read<T extends AllowedTypes<Scopes, 'read'>>(type: T, id: string, options?: RequestOptions): ApiPromise<FhirResource<T>> {
    return this.#transport.request(() => {
      checkType(type, fhirResourceTypes, 'serves');
      checkScopes(this.#scopes, type, 'read');
      if (typeof id !== 'string' || !/^[A-Za-z0-9\-.]{1,64}$/.test(id)) throw new MesError(`${JSON.stringify(id)} is not a FHIR id (1 to 64 letters, digits, - and .).`);
      return { method: 'GET', path: path`${type}/${id}`, mediaType: fhirJson };
    }, options);
  }

  /**
   * GET /fhir/{type}?…: a search. Await it for the first page; iterate it with `for await` for
   * every resource of every page, `.pages()` for the pages, or `.all({ limit })` to collect.
   * Needs `patient/{type}.s`; a granular scope (`?category=…`) narrows the results.
   */
  search<T extends AllowedTypes<Scopes, 'search'>>(
    type: T,
    params: FhirSearchParams<T> = {} as FhirSearchParams<T>,
    options?: RequestOptions,
  ): PagePromise<FhirResource<T>, FhirSearchPage<T>> {
    const fetchPage = async (relative: string, query: Query): Promise<PageData<FhirResource<T>> & { bundle: unknown }> => {
      const bundle = await this.#transport.request<AnyBundle>({ method: 'GET', path: relative, query, mediaType: fhirJson }, options);
      const items = (bundle.entry ?? []).map((entry) => entry.resource as FhirResource<T>);
      const next = bundle.link?.find((link) => link.relation === 'next')?.url ?? null;
      return { items, nextCursor: next, bundle };
    };
    // The next link is followed only on this FHIR API: the token never goes anywhere else.
    const fetchNext = (next: string) => {
      const url = new URL(next, this.#transport.baseUrl);
      if (!url.href.startsWith(this.#transport.baseUrl)) {
        return Promise.reject(new MesError(`The next link ${url.origin}${url.pathname} is not on the FHIR API ${this.#transport.baseUrl}: not followed.`));
      }
      const query: Record<string, string[]> = {};
      for (const [name, value] of url.searchParams) (query[name] ??= []).push(value);
      return fetchPage(url.pathname.slice(new URL(this.#transport.baseUrl).pathname.length), query);
    };
    const first = Promise.resolve()
      .then(() => {
        checkType(type, fhirResourceTypes, 'serves');
        checkScopes(this.#scopes, type, 'search');
        return fetchPage(type, params as Query);
      }).then((data) => new FhirPage(data, fetchNext) as FhirSearchPage<T>);
    return new PagePromise(first);
  }

  /**
   * POST /fhir/{type}: records a resource for the patient (Observation, DocumentReference,
   * Appointment) or sends the patient a message (Communication). Sent
   * with an Idempotency-Key and retried safely. Needs `patient/{type}.c`.
   */
  create<T extends AllowedTypes<Scopes, 'create', CreatableResourceType>>(type: T, resource: FhirCreateInput<T>, options?: RequestOptions): ApiPromise<FhirResource<T>> {
    return this.#transport.request(() => {
      checkType(type, creatableResourceTypes, 'accepts creates of');
      checkScopes(this.#scopes, type, 'create');
      return { method: 'POST', path: path`${type}`, body: resource, mediaType: fhirJson, idempotent: true };
    }, options);
  }

  /**
   * PUT /fhir/{type}/{id}: replaces a resource the app wrote (an Appointment it booked: to confirm,
   * reschedule or cancel it) with the whole new version. Needs `patient/{type}.u`. PUT is
   * idempotent: a retry after a lost answer finds the same content and makes no new version.
   */
  update<T extends AllowedTypes<Scopes, 'update', UpdatableResourceType>>(type: T, resource: FhirUpdateInput<T>, options?: UpdateOptions): ApiPromise<FhirResource<T>> {
    const { ifMatch, ...requestOptions } = options ?? {};
    return this.#transport.request(() => {
      checkType(type, updatableResourceTypes, 'accepts updates of');
      checkScopes(this.#scopes, type, 'update');
      const id = (resource as { id?: unknown }).id;
      if (typeof id !== 'string' || !/^[A-Za-z0-9\-.]{1,64}$/.test(id)) throw new MesError(`${JSON.stringify(id)} is not a FHIR id: an update needs the resource's id.`);
      const version = ifMatch === true ? (resource as { meta?: { versionId?: string } }).meta?.versionId : ifMatch;
      if (ifMatch === true && version === undefined) throw new MesError('ifMatch: true needs the resource\'s meta.versionId (update the resource as it was read).');
      const headers: Record<string, string> = version === undefined ? {} : { 'if-match': /^(W\/)?"/.test(version) ? version : `W/"${version}"` };
      return { method: 'PUT', path: path`${type}/${id}`, body: resource, mediaType: fhirJson, headers };
    }, requestOptions);
  }
}
