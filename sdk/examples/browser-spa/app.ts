// A single-page app (a public client: no secret, PKCE and a DPoP key instead) that lists the
// patient's vaccinations. The authorization survives the round trip to the platform in the tab's
// sessionStorage; the page is its own redirect URI.
import { createClient, ReauthorizationRequiredError, type Immunization } from '@mes/sdk';
import { sessionStorageStorage } from '../storage/session-storage.js';

// Set when the page is bundled (see dev-server.ts): a public client id is no secret.
declare const MES_API_URL: string;
declare const MES_CLIENT_ID: string;

const mes = createClient({
  baseUrl: MES_API_URL,
  clientId: MES_CLIENT_ID,
  redirectUri: `${location.origin}/`,
  scope: ['patient/Immunization.rs'],
  storage: sessionStorageStorage(),
});

const element = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const status = element<HTMLParagraphElement>('status');
const signIn = element<HTMLButtonElement>('sign-in');
const record = element<HTMLElement>('record');
const list = element<HTMLUListElement>('vaccinations');

function showSignIn(message: string): void {
  status.textContent = message;
  signIn.hidden = false;
  record.hidden = true;
}

function describe(immunization: Immunization): string {
  const date = immunization.occurrenceDateTime ? new Date(immunization.occurrenceDateTime).toLocaleDateString('fr-FR', { dateStyle: 'long' }) : 'date inconnue';
  const vaccine = immunization.vaccineCode.text ?? immunization.vaccineCode.coding?.[0]?.display ?? immunization.vaccineCode.coding?.[0]?.code;
  return `${date} : ${vaccine ?? 'vaccin non précisé'}`;
}

async function showVaccinations(): Promise<void> {
  status.textContent = 'Chargement de vos vaccinations…';
  const items: HTMLLIElement[] = [];
  // Newest first, every page followed; each request carries its own DPoP proof.
  for await (const immunization of mes.fhir.search('Immunization', { _sort: '-date' })) {
    const item = document.createElement('li');
    item.textContent = describe(immunization); // text, never HTML: the data is not ours
    items.push(item);
  }
  list.replaceChildren(...items);
  status.textContent = items.length ? `${items.length} vaccination(s).` : 'Aucune vaccination enregistrée.';
  signIn.hidden = true;
  record.hidden = false;
}

signIn.addEventListener('click', async () => {
  signIn.disabled = true;
  try {
    // Sandbox: ?patient=<id> on this page pre-approves that synthetic patient's consent.
    const patient = new URLSearchParams(location.search).get('patient') ?? undefined;
    const { url } = await mes.authorize(patient ? { loginHint: patient } : {});
    location.assign(url);
  } catch (error) {
    signIn.disabled = false;
    showSignIn(`La connexion n'a pas pu commencer : ${error instanceof Error ? error.message : String(error)}`);
  }
});

element<HTMLButtonElement>('sign-out').addEventListener('click', async () => {
  await mes.signOut();
  list.replaceChildren();
  showSignIn('Vous êtes déconnecté.');
});

async function start(): Promise<void> {
  const here = new URL(location.href);
  if (here.searchParams.has('state')) {
    // Back from the platform: check state and iss, exchange the code, then drop it from the address bar.
    try {
      await mes.handleCallback(here);
    } finally {
      history.replaceState(null, '', here.pathname);
    }
  }
  if (!(await mes.authorization())) return showSignIn('Connectez-vous pour voir vos vaccinations.');
  await showVaccinations();
}

start().catch((error: unknown) => {
  if (error instanceof ReauthorizationRequiredError) return showSignIn('Votre accès a pris fin : connectez-vous à nouveau.');
  showSignIn(`Erreur : ${error instanceof Error ? error.message : String(error)}`);
});
