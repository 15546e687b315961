// HTTP handlers of the FHIR API, keyed by operationId. The security scheme has already checked
// the token, its proof and its grant; here every request is confined to the token's patient
// (and, when a guardian acts for a child, to a guardianship still in force), to what the token's
// scopes allow on the type and interaction (granular scopes become filters of the query), and is
// recorded in the patient's access history before the answer leaves.
import type { FastifyRequest } from 'fastify';
import type { components } from '@mes/openapi';
import type { AppConfig } from '../../core/config.js';
import { canonicalJson } from '@mes/sdk/certification';
import { notModified, parseEntityTags } from '../../core/conditional-requests.js';
import { FhirError } from '../../core/fhir-error.js';
import { combiningAccessCheck, grantFactsOf, type GrantFacts, type HandlerContext, type HandlerMap, type Principal } from '../../core/operations.js';
import type { Db, Queryable } from '../../core/store/db.js';
import { accessHistoryWriter, recordAccess, type AccessInteraction } from '../audit/index.js';
import { enqueueResourceEvent } from '../notifications/index.js';
import { access, allows, dpopChallenge, grantedScopes, type Interaction, type ResourceAccess, type SearchFilter } from '../oauth/index.js';
import { capabilityStatement } from './capabilities.js';
import { mandatoryElements, parseElements, subsetted } from './elements.js';
import * as repo from './repository.js';
import { factsOf, searchTokens, type FhirResource, type FhirResourceType } from './resources.js';
import { encodeSearchCursor, planSearch, summaryOf, wantsTotal, type SearchQuery } from './search.js';
import { validateDocumentReference, validateObservation } from './validation.js';
import { validateMessageFromApp, type Communication } from './messages.js';
import { overlaps, slotHoldingStatuses, slotOf, validateAppointmentChange, validateNewAppointment, MAX_APPOINTMENT_MS } from './appointments.js';

type Schemas = components['schemas'];

declare module 'fastify' {
  interface FastifyRequest {
    /** What a FHIR search found, for whom: the sandbox's traffic report counts the empty ones. */
    fhirSearch?: { patientId: string; resultCount: number };
  }
}
type PatientData = Extract<Principal, { kind: 'patient_data' }>;

type SearchOperation = `search${FhirResourceType}`;
type ReadOperation = `read${FhirResourceType}`;
type CreateOperation = 'createObservation' | 'createDocumentReference' | 'createAppointment' | 'createCommunication';
type RecordsOperations = 'getFhirCapabilities' | SearchOperation | ReadOperation | CreateOperation | 'updateAppointment';

export interface RecordsDeps {
  db: Db;
  config: AppConfig;
  issuerOf: (request: FastifyRequest) => string;
  /** False only in the benchmark that measures the cost of the access history. */
  recordHistory?: boolean;
}

/** Patient data is never cached by anyone but the app. */
const noStore = { 'cache-control': 'no-store' };

const verbs: Record<Interaction, string> = { c: 'creating', r: 'reading', u: 'updating', d: 'deleting', s: 'searching' };

const httpDate = (date: Date) => date.toUTCString();

function patientDataOf(context: { principal: Principal | null }): PatientData {
  if (context.principal?.kind !== 'patient_data') throw new FhirError(401, 'login', 'a patient-data access token is required');
  return context.principal;
}

/**
 * Refuses (412) a change whose `If-Match` does not name the current version. Compared weakly, as
 * FHIR's version ETags are (`W/"3"`, `"3"` and `*` name version 3); a header that is not a list of
 * entity tags names nothing.
 */
function checkIfMatch(header: string | undefined, version: number): void {
  if (header === undefined) return;
  const tags = parseEntityTags(header);
  if (tags === '*' || tags?.some((tag) => tag.opaque === `"${version}"`)) return;
  throw new FhirError(412, tags ? 'conflict' : 'invalid', tags ? `If-Match names another version; the current one is ${version} (read it again, then change it)` : `If-Match: ${JSON.stringify(header)} is not the ETag of a version (W/"3")`);
}

/** Whether two versions of a resource say the same (id and meta aside), whatever the order of their members. */
const sameContent = (a: object, b: object) => {
  const content = ({ id: _id, meta: _meta, ...rest }: { id?: unknown; meta?: unknown }) => rest;
  return canonicalJson(content(a)) === canonicalJson(content(b));
};

export function recordsHandlers(deps: RecordsDeps): HandlerMap<RecordsOperations> {
  const { db } = deps;

  /** Refuses a guardian whose guardianship has ended (the child came of age). */
  function requireActor(grant: GrantFacts): void {
    if (!grant.actorMayAct) {
      throw new FhirError(403, 'forbidden', 'the person who approved this grant may no longer act for this patient (guardianship ended)', {
        // No refresh can bring the guardian's authority back: the grant is over, as a revoked one.
        headers: { 'www-authenticate': dpopChallenge('invalid_token', 'the guardianship behind this grant has ended', undefined, 'grant_revoked') },
      });
    }
  }

  /**
   * What the token may do with this type and interaction: refused with 403 insufficient_scope,
   * or the filters of its granular scopes (null: unrestricted). Also refuses a guardian whose
   * guardianship has ended, first (requireActor); when the grant's facts are still to be read
   * with the operation's statement, the caller does so once they are.
   */
  async function authorize(principal: PatientData, resourceType: FhirResourceType, interaction: Interaction): Promise<readonly SearchFilter[] | null> {
    const decision: ResourceAccess = access(grantedScopes(principal.scope), resourceType, interaction);
    if (principal.grant || decision.kind === 'denied') requireActor(await grantFactsOf(principal));
    if (decision.kind === 'denied') {
      const needed = `patient/${resourceType}.${interaction}`;
      throw new FhirError(403, 'forbidden', `this token's scopes do not allow ${verbs[interaction]} ${resourceType} (needs ${needed})`, {
        headers: { 'www-authenticate': dpopChallenge('insufficient_scope', `needs ${needed}`, needed) },
      });
    }
    return decision.kind === 'filtered' ? decision.filters : null;
  }

  /**
   * The access check still to run, for the operation's statement to run it too (one round trip);
   * undefined when it has run. judged() then reads the grant's facts from the row it returned.
   */
  const pendingCheck = (principal: PatientData) => (principal.grant ? undefined : principal.deferredCheck!.query);
  function judged(principal: PatientData, row: Record<string, unknown> | null): GrantFacts {
    const grant = row ? principal.deferredCheck!.judge(row) : principal.grant!;
    requireActor(grant);
    return grant;
  }

  const recordHistory = deps.recordHistory ?? true;
  // Reads and searches append through the group commit; a create, in its own transaction.
  const history = accessHistoryWriter(db);
  const record = async (
    principal: PatientData,
    grant: GrantFacts,
    resourceType: FhirResourceType,
    interaction: AccessInteraction,
    resourceCount: number,
    tx?: Queryable,
  ) => {
    if (!recordHistory) return;
    const entry = {
      patientId: principal.patientId,
      appId: grant.appId,
      clientId: principal.clientId,
      grantId: principal.grantId,
      actorId: grant.actorId,
      resourceType,
      interaction,
      resourceCount,
    };
    await (tx ? recordAccess(tx, entry) : history.append(entry));
  };

  const base = (request: FastifyRequest) => `${deps.issuerOf(request)}/fhir`;

  function search<T extends FhirResourceType>(resourceType: T) {
    return combiningAccessCheck(async (context: HandlerContext<SearchOperation>) => {
      const principal = patientDataOf(context);
      const filters = await authorize(principal, resourceType, 's');
      const summary = summaryOf(context.query._summary, 'search');
      const elements = context.query._elements === undefined ? null : parseElements(context.query._elements);
      const plan = planSearch(resourceType, context.query as SearchQuery, principal.patientId);
      const conversation = await conversationOf(principal, resourceType);
      if (conversation) plan.sourceAppId = conversation;
      const url = `${base(context.request)}/${resourceType}`;
      const link = (extra: [string, string][]) => {
        const params = new URLSearchParams([...plan.parameters, ...extra]).toString();
        return params ? `${url}?${params}` : url;
      };

      if (summary === 'count') {
        const grant = await grantFactsOf(principal);
        requireActor(grant);
        const total = await repo.countResources(db, plan, filters);
        // A count returns no resource, but it is an access all the same: the app learnt how many there are.
        await record(principal, grant, resourceType, 'search', 0);
        return {
          status: 200 as const,
          headers: noStore,
          body: { resourceType: 'Bundle' as const, type: 'searchset' as const, total, link: [{ relation: 'self' as const, url: link([['_summary', 'count']]) }] },
        } as never;
      }

      const counted = wantsTotal(context.query._total);
      // The count runs beside the page, once the access check has passed on its own.
      if (counted) await grantFactsOf(principal);
      const [{ page, more, access: checked }, total] = await Promise.all([
        repo.searchResources(db, plan, filters, pendingCheck(principal)),
        counted ? repo.countResources(db, plan, filters) : undefined,
      ]);
      const grant = judged(principal, checked);
      await record(principal, grant, resourceType, 'search', page.length);
      context.request.fhirSearch = { patientId: principal.patientId, resultCount: page.length };
      // The links keep what shapes the answer, so that every page comes the same way.
      const shaping: [string, string][] = [];
      if (elements) shaping.push(['_elements', elements.join(',')]);
      if (counted) shaping.push(['_total', context.query._total!]);
      const position: [string, string][] = plan.after && typeof context.query._cursor === 'string' ? [['_cursor', context.query._cursor]] : [];
      const last = page.at(-1);
      const links: { relation: 'self' | 'next'; url: string }[] = [{ relation: 'self', url: link([...shaping, ...position]) }];
      if (more && last) links.push({ relation: 'next', url: link([...shaping, ['_cursor', encodeSearchCursor(plan, { value: last.sortValue, id: last.resource.id! })]]) });
      const mandatory = elements ? mandatoryElements(resourceType) : [];
      return {
        status: 200 as const,
        headers: noStore,
        body: {
          resourceType: 'Bundle' as const,
          type: 'searchset' as const,
          ...(total === undefined ? {} : { total }),
          link: links,
          // FHIR JSON has no empty arrays: a page without results has no entry at all.
          ...(page.length
            ? {
                entry: page.map((stored) => ({
                  fullUrl: `${url}/${stored.resource.id}`,
                  resource: elements ? subsetted(stored.resource, elements, mandatory) : stored.resource,
                  search: { mode: 'match' as const },
                })),
              }
            : {}),
        },
      } as never;
    });
  }

  function read<T extends FhirResourceType>(resourceType: T) {
    return combiningAccessCheck(async (context: HandlerContext<ReadOperation>) => {
      const principal = patientDataOf(context);
      const filters = await authorize(principal, resourceType, 'r');
      summaryOf(context.query._summary, 'read');
      const elements = context.query._elements === undefined ? null : parseElements(context.query._elements);
      const conversation = await conversationOf(principal, resourceType);
      const { stored, access: checked } = await repo.readResource(db, principal.patientId, resourceType, (context.params as { id: string }).id, filters, pendingCheck(principal), conversation);
      const grant = judged(principal, checked);
      // A 304 counts as a read of the resource: the app learnt that it exists and is unchanged.
      await record(principal, grant, resourceType, 'read', stored ? 1 : 0);
      // Another patient's resource, or one the scopes do not cover, is simply not found: no existence leaks.
      if (!stored) throw new FhirError(404, 'not-found', `no ${resourceType} with this id that this token may read`);
      const etag = `W/"${stored.versionId}"`;
      const headers = { ...noStore, etag, 'last-modified': httpDate(stored.lastUpdated) };
      const { 'if-none-match': ifNoneMatch, 'if-modified-since': ifModifiedSince } = context.request.headers;
      if (notModified({ ifNoneMatch, ifModifiedSince }, { etag, lastModified: stored.lastUpdated })) return { status: 304 as const, headers } as never;
      return {
        status: 200 as const,
        headers,
        body: elements ? subsetted(stored.resource, elements, mandatoryElements(resourceType)) : stored.resource,
      } as never;
    });
  }

  /** Refuses a resource that a granular scope of `interaction` does not cover (`patient/Observation.c?category=vital-signs`). */
  function checkGranular(principal: PatientData, resourceType: FhirResourceType, interaction: 'c' | 'u', resource: FhirResource): void {
    if (allows(grantedScopes(principal.scope), resourceType, interaction, factsOf(searchTokens(resource)))) return;
    const needed = `patient/${resourceType}.${interaction}`;
    throw new FhirError(403, 'forbidden', `this token may ${interaction === 'c' ? 'create' : 'update'} only the ${resourceType} resources its scopes name (${principal.scope})`, {
      headers: { 'www-authenticate': dpopChallenge('insufficient_scope', `needs ${needed} for this resource`, needed) },
    });
  }

  /**
   * Refuses an appointment that overlaps another slot-holding one of the patient (not itself).
   * The caller holds the patient's agenda lock (repo.lockAgenda), so the check and the write are one step.
   */
  async function checkNoOverlap(tx: Queryable, patientId: string, appointment: Schemas['Appointment'], self?: string): Promise<void> {
    const slot = slotOf(appointment);
    if (!slot) return;
    const nearby = await repo.appointmentsStartingBetween(tx, patientId, slotHoldingStatuses, new Date(slot[0] - MAX_APPOINTMENT_MS), new Date(slot[1]));
    const clash = nearby.find((other) => other.id !== self && overlaps(slot, slotOf(other as Schemas['Appointment']) ?? [0, 0]));
    if (clash) {
      throw new FhirError(409, 'conflict', `Appointment.start: the patient already has an appointment from ${clash.start} to ${clash.end}; choose another time`, {
        expression: ['Appointment.start'],
      });
    }
  }

  /**
   * The app whose conversation a token sees, for messages: an app reads only the messages it sent
   * and those the patient sent it, whatever its scopes. Undefined for every other type.
   */
  async function conversationOf(principal: PatientData, resourceType: FhirResourceType): Promise<string | undefined> {
    return resourceType === 'Communication' ? (await grantFactsOf(principal)).appId : undefined;
  }

  /** A reply names a message of the same conversation (the patient's, with this app). */
  async function checkReplyTo(tx: Queryable, patientId: string, appId: string, message: Communication): Promise<void> {
    const reference = message.inResponseTo?.[0]?.reference;
    if (reference === undefined) return;
    const id = reference.startsWith('Communication/') ? reference.slice('Communication/'.length) : null;
    const { stored } = id ? await repo.readResource(tx, patientId, 'Communication', id, null, undefined, appId) : { stored: null };
    if (!stored) throw new FhirError(422, 'value', `Communication.inResponseTo[0]: ${reference} is not a message of this conversation`, { expression: ['Communication.inResponseTo[0]'] });
  }

  async function create(
    context: HandlerContext<CreateOperation>,
    resourceType: 'Observation' | 'DocumentReference' | 'Appointment' | 'Communication',
    validate: (patientId: string) => FhirResource,
  ) {
    const principal = patientDataOf(context);
    // The type-level scope first: a token that may not create learns nothing of the validation rules.
    const filters = await authorize(principal, resourceType, 'c');
    const grant = await grantFactsOf(principal);
    requireActor(grant);
    const resource = validate(principal.patientId);
    // A granular create scope (patient/Observation.c?category=vital-signs) limits what may be written.
    if (filters) checkGranular(principal, resourceType, 'c', resource);
    // The resource, its access history entry and, with an Idempotency-Key, the answer a retry gets
    // commit together: an instance that dies half-way leaves none of them, and a retry creates it
    // once; one that dies after the commit leaves all three, and a retry gets the answer.
    const answer = await db.transaction(async (tx) => {
      if (resource.resourceType === 'Appointment') {
        await repo.lockAgenda(tx, principal.patientId);
        await checkNoOverlap(tx, principal.patientId, resource);
      }
      if (resource.resourceType === 'Communication') await checkReplyTo(tx, principal.patientId, grant.appId, resource);
      const stored = await repo.insertResource(tx, { patientId: principal.patientId, resource, sourceAppId: grant.appId });
      await record(principal, grant, resourceType, 'create', 1, tx);
      // Subscribers are told of it only if it commits (the outbox is written in this transaction).
      // A message the app sent is news to nobody else: only the patient's answers notify (its own app).
      if (resourceType !== 'Communication') {
        await enqueueResourceEvent(tx, { patientId: principal.patientId, resourceType, id: stored.resource.id!, interaction: 'create', facts: factsOf(searchTokens(stored.resource)) });
      }
      const location = `${base(context.request)}/${resourceType}/${stored.resource.id}/_history/${stored.versionId}`;
      const created = {
        status: 201 as const,
        headers: { ...noStore, location, etag: `W/"${stored.versionId}"`, 'last-modified': httpDate(stored.lastUpdated) },
        body: stored.resource,
      };
      await context.settleIdempotency?.(tx, created);
      return created;
    });
    return answer as never;
  }

  /** PUT /Appointment/{id}: a change of an appointment the app added, checked against its current version. */
  async function updateAppointment(context: HandlerContext<'updateAppointment'>) {
    const principal = patientDataOf(context);
    const filters = await authorize(principal, 'Appointment', 'u');
    const grant = await grantFactsOf(principal);
    requireActor(grant);
    const id = (context.params as { id: string }).id;
    const body = context.body as Schemas['Appointment'];
    if (body.id !== id) throw new FhirError(400, 'invalid', `Appointment.id: the resource's id (${body.id ?? 'none'}) must be the one in the URL (${id})`, { expression: ['Appointment.id'] });
    const mayRead = allows(grantedScopes(principal.scope), 'Appointment', 'r');
    const notFound = () => new FhirError(404, 'not-found', 'no Appointment with this id that this token may update');
    const answer = await db.transaction(async (tx) => {
      await repo.lockAgenda(tx, principal.patientId);
      const locked = await repo.lockResource(tx, principal.patientId, 'Appointment', id);
      if (!locked) throw notFound();
      const current = locked.stored.resource as Schemas['Appointment'];
      // A granular scope covers the appointment as it is and as it becomes.
      if (filters && !allows(grantedScopes(principal.scope), 'Appointment', 'u', factsOf(searchTokens(current)))) throw notFound();
      if (locked.sourceAppId !== grant.appId) {
        // A token that may not read appointments does not learn that this one exists.
        if (!mayRead) throw notFound();
        throw new FhirError(403, 'forbidden', 'this appointment was added by someone else (another app, or the care team); an app changes only the appointments it added');
      }
      checkIfMatch(context.request.headers['if-match'], locked.stored.versionId);
      let stored = locked.stored;
      const next = { ...validateAppointmentChange(body, current, principal.patientId), id } as Schemas['Appointment'] & { id: string };
      // The same content again (a retry, a save without changes) makes no new version.
      if (!sameContent(next, current)) {
        if (filters) checkGranular(principal, 'Appointment', 'u', next);
        await checkNoOverlap(tx, principal.patientId, next, id);
        stored = await repo.updateResource(tx, principal.patientId, next);
        await enqueueResourceEvent(tx, { patientId: principal.patientId, resourceType: 'Appointment', id, interaction: 'update', facts: factsOf(searchTokens(stored.resource)) });
      }
      await record(principal, grant, 'Appointment', 'update', 1, tx);
      return {
        status: 200 as const,
        headers: { ...noStore, etag: `W/"${stored.versionId}"`, 'last-modified': httpDate(stored.lastUpdated) },
        body: stored.resource,
      };
    });
    return answer as never;
  }

  return {
    async getFhirCapabilities(context) {
      const issuer = deps.issuerOf(context.request);
      return { status: 200, headers: { 'cache-control': 'public, max-age=300' }, body: capabilityStatement(issuer) };
    },
    searchPatient: search('Patient'),
    searchObservation: search('Observation'),
    searchImmunization: search('Immunization'),
    searchAllergyIntolerance: search('AllergyIntolerance'),
    searchCondition: search('Condition'),
    searchMedicationStatement: search('MedicationStatement'),
    searchDocumentReference: search('DocumentReference'),
    searchAppointment: search('Appointment'),
    readPatient: read('Patient'),
    readObservation: read('Observation'),
    readImmunization: read('Immunization'),
    readAllergyIntolerance: read('AllergyIntolerance'),
    readCondition: read('Condition'),
    readMedicationStatement: read('MedicationStatement'),
    readDocumentReference: read('DocumentReference'),
    readAppointment: read('Appointment'),
    createObservation: (context) => create(context, 'Observation', (patientId) => validateObservation(context.body as Schemas['Observation'], patientId)),
    createDocumentReference: (context) =>
      create(context, 'DocumentReference', (patientId) => validateDocumentReference(context.body as Schemas['DocumentReference'], patientId)),
    createAppointment: (context) => create(context, 'Appointment', (patientId) => validateNewAppointment(context.body as Schemas['Appointment'], patientId)),
    updateAppointment,
    searchCommunication: search('Communication'),
    readCommunication: read('Communication'),
    createCommunication: (context) => create(context, 'Communication', (patientId) => validateMessageFromApp(context.body as Schemas['Communication'], patientId)),
  } as HandlerMap<RecordsOperations>;
}
