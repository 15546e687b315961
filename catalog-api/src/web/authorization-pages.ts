// The patient's step of an authorization, where the authorization endpoint hands the browser
// over. In the sandbox: a picker of synthetic patients with search, then, for the chosen patient,
// who the access is for (a guardian may act for a child) and what the app asks for, with Approve
// and Refuse; the decision goes back to the app through the authorization server, and the
// patient is signed in on the platform's pages (to see "my connected apps" at once). Outside the
// sandbox this step is the real sign-in and consent screen, which is not built yet (503).
import type { FastifyRequest } from 'fastify';
import type { AppConfig } from '../core/config.js';
import type { HandlerMap } from '../core/operations.js';
import type { Db } from '../core/store/db.js';
import { approveFor } from '../modules/consent/index.js';
import { finishAuthorization, pendingAuthorization, type PendingAuthorization } from '../modules/oauth/index.js';
import { childrenOf, findPatients, mayActFor, patientSummaries, type PatientSummary } from '../modules/records/index.js';
import { escapeHtml, page } from './html.js';
import { patientPageHeaders } from './layout.js';
import { fromOwnOrigin, type PatientSessions } from './patient-session.js';
import { describeScopes } from './scope-labels.js';

type AuthorizationPageOperations = 'showAuthorization' | 'decideAuthorization';

const PICKER_SIZE = 20;
const dateFormat = new Intl.DateTimeFormat('fr-FR', { dateStyle: 'long', timeZone: 'UTC' });
const born = (patient: PatientSummary) => (patient.birthDate ? `, né(e) le ${dateFormat.format(new Date(`${patient.birthDate}T00:00:00Z`))}` : '');

export interface AuthorizationPageDeps {
  db: Db;
  config: AppConfig;
  sessions: PatientSessions;
  issuerOf: (request: FastifyRequest) => string;
}

export function authorizationPageHandlers(deps: AuthorizationPageDeps): HandlerMap<AuthorizationPageOperations> {
  const { db, config } = deps;
  const html = <S extends 200 | 400 | 403 | 503>(status: S, body: string, headers: Record<string, string> = {}) => ({
    status,
    headers: { ...patientPageHeaders(), ...headers },
    body,
  });
  const expired = () =>
    html(400, page('Demande expirée', '<h1>Cette demande d’accès a expiré</h1><p>Elle a déjà été traitée ou date de plus de dix minutes. Revenez à l’application et recommencez.</p>'));
  const unavailable = () =>
    html(503, page('Connexion indisponible', '<h1>La connexion des patients n’est pas encore disponible</h1><p>Ce serveur n’est pas encore relié à la fédération d’identité des patients.</p>'));

  return {
    async showAuthorization({ query }) {
      if (config.mode !== 'sandbox') return unavailable();
      const pending = await pendingAuthorization(db, query.interaction);
      if (!pending) return expired();
      if (query.patient) {
        const [patient] = await patientSummaries(db, [query.patient]);
        if (!patient) return html(400, pickerPage(query.interaction, pending, await findPatients(db, '', PICKER_SIZE), query.q, 'Ce patient de test n’existe pas.'));
        const children = await patientSummaries(db, await childrenOf(db, patient.id));
        return html(200, decisionPage(query.interaction, pending, patient, children));
      }
      return html(200, pickerPage(query.interaction, pending, await findPatients(db, query.q ?? '', PICKER_SIZE), query.q));
    },

    async decideAuthorization({ request, body }) {
      if (config.mode !== 'sandbox') return unavailable();
      if (!fromOwnOrigin(request, deps.issuerOf(request))) {
        return html(403, page('Action refusée', '<h1>Action refusée</h1><p>Ce formulaire ne vient pas de cette plateforme. Rien n’a été accordé.</p>'));
      }
      const pending = await pendingAuthorization(db, body.interaction);
      if (!pending) return expired();
      const back = (location: string, headers: Record<string, string> = {}) => ({ status: 303 as const, headers: { ...patientPageHeaders(), location, ...headers } });
      if (body.decision === 'refuse') {
        const location = await finishAuthorization(db, config, body.interaction, { approved: false, error: 'access_denied', description: 'the patient refused' });
        return location ? back(location) : expired();
      }
      if (!body.patient_id) return html(400, pickerPage(body.interaction, pending, await findPatients(db, '', PICKER_SIZE), undefined, 'Choisissez un patient de test.'));
      const [patient] = await patientSummaries(db, [body.patient_id]);
      if (!patient) return html(400, pickerPage(body.interaction, pending, await findPatients(db, '', PICKER_SIZE), undefined, 'Ce patient de test n’existe pas.'));
      const own = `/patient/authorize?interaction=${encodeURIComponent(body.interaction)}&patient=${encodeURIComponent(patient.id)}`;
      if (body.decision !== 'approve') return back(own);
      const forWhom = body.for ?? patient.id;
      if (forWhom !== patient.id && !(await mayActFor(db, patient.id, forWhom))) {
        return html(400, decisionPage(body.interaction, pending, patient, await patientSummaries(db, await childrenOf(db, patient.id)), 'Vous ne pouvez pas agir pour ce patient.'));
      }
      const decision = await approveFor(db, { actorId: patient.id, patientId: forWhom, scopes: pending.scopes });
      const location = await finishAuthorization(db, config, body.interaction, decision);
      if (!location) return expired();
      // Signed in on the platform's pages too, as the real sign-in will do.
      const { setCookie } = await deps.sessions.open(patient.id);
      return back(location, { 'set-cookie': setCookie });
    },
  };
}

function asking(pending: PendingAuthorization): string {
  return `<p><strong>${escapeHtml(pending.appName)}</strong> demande à :</p>
<ul>${describeScopes(pending.scopes).map((line) => `<li>${escapeHtml(line)}</li>`).join('')}</ul>`;
}

function refuseForm(interaction: string): string {
  return `<form method="post" action="/patient/authorize"><input type="hidden" name="interaction" value="${escapeHtml(interaction)}"><button name="decision" value="refuse">Refuser et revenir à l’application</button></form>`;
}

function pickerPage(interaction: string, pending: PendingAuthorization, patients: PatientSummary[], q: string | undefined, error?: string): string {
  const hidden = `<input type="hidden" name="interaction" value="${escapeHtml(interaction)}">`;
  const choices = patients.map(
    (patient) =>
      `<li><form method="post" action="/patient/authorize">${hidden}<input type="hidden" name="patient_id" value="${escapeHtml(patient.id)}"><button>${escapeHtml(patient.name)}${escapeHtml(born(patient))}</button> <small>${escapeHtml(patient.id)}</small></form></li>`,
  );
  return page(
    'Connexion au bac à sable',
    `<h1>Connexion au bac à sable</h1>
${asking(pending)}
<p>Choisissez le patient de test qui se connecte. Aucune donnée réelle n’est utilisée.</p>
${error ? `<p role="alert"><strong>${escapeHtml(error)}</strong></p>` : ''}
<form method="get" action="/patient/authorize">${hidden}
<p><label for="q">Rechercher un patient (nom, prénom ou identifiant)</label><br><input id="q" name="q" maxlength="100" value="${escapeHtml(q ?? '')}"> <button>Rechercher</button></p>
</form>
${choices.length ? `<ul>${choices.join('\n')}</ul>` : '<p>Aucun patient de test ne correspond à cette recherche.</p>'}
${refuseForm(interaction)}`,
  );
}

function decisionPage(interaction: string, pending: PendingAuthorization, patient: PatientSummary, children: PatientSummary[], error?: string): string {
  const hidden = `<input type="hidden" name="interaction" value="${escapeHtml(interaction)}"><input type="hidden" name="patient_id" value="${escapeHtml(patient.id)}">`;
  const forWhom = children.length
    ? `<fieldset><legend>Pour qui donnez-vous cet accès ?</legend>
<p><input type="radio" id="for-self" name="for" value="${escapeHtml(patient.id)}" checked> <label for="for-self">Pour moi-même</label></p>
${children.map((child, i) => `<p><input type="radio" id="for-${i}" name="for" value="${escapeHtml(child.id)}"> <label for="for-${i}">Pour ${escapeHtml(child.name)}${escapeHtml(born(child))}, dont je suis le représentant légal</label></p>`).join('\n')}
</fieldset>`
    : '';
  return page(
    'Autoriser l’accès',
    `<h1>Autoriser ${escapeHtml(pending.appName)}</h1>
<p>Connecté en tant que <strong>${escapeHtml(patient.name)}</strong>${escapeHtml(born(patient))} (patient de test <code>${escapeHtml(patient.id)}</code>).</p>
${error ? `<p role="alert"><strong>${escapeHtml(error)}</strong></p>` : ''}
${asking(pending)}
<form method="post" action="/patient/authorize">${hidden}
${forWhom}
<p><button name="decision" value="approve">Autoriser</button> <button name="decision" value="refuse">Refuser</button></p>
</form>
<p><a href="/patient/authorize?interaction=${encodeURIComponent(interaction)}">Choisir un autre patient</a></p>`,
  );
}
