// The platform's legal pages, linked from the footer of every page: the accessibility statement
// (RGAA 4.1 shape), the legal notice and the personal-data notice, in French and English.
// What they state about cookies comes from the modules that set them, so the pages cannot drift.
import type { FastifyRequest } from 'fastify';
import type { HandlerMap } from '../core/operations.js';
import { escapeHtml } from './html.js';
import { formatCalendarDate, LANGUAGE_COOKIE, LANGUAGE_COOKIE_SECONDS, messages, type Lang } from './i18n.js';
import { FOOTER_LINKS, pageReply } from './layout.js';
import { signInAttemptCookie, SIGN_IN_ATTEMPT_SECONDS } from './oidc/sign-in-attempts.js';
import { pageContext, type PageDeps } from './page-context.js';
import { PATIENT_SESSION_SECONDS, patientSessionCookie } from './patient-session.js';

type LegalOperations = 'showAccessibilityStatement' | 'showLegalNotice' | 'showPrivacyNotice';

/** The legal pages' paths: those the layout's footer links on every page. */
export const LEGAL_LINKS = FOOTER_LINKS;

/**
 * Where patients write to the operator. Placeholders under the reserved `.example` domain: the
 * platform's configuration has no operator contact yet, and a deployment replaces these with its own.
 */
export const LEGAL_CONTACTS = {
  accessibility: 'accessibilite@mes-apps.example',
  operator: 'contact@mes-apps.example',
  dataProtection: 'dpo@mes-apps.example',
} as const;

/** The day the accessibility statement was made (RGAA asks for it); change it with the statement. */
export const ACCESSIBILITY_STATEMENT_DATE = '2026-12-07';

export const DEFENSEUR_DES_DROITS_FORM = 'https://formulaire.defenseurdesdroits.fr/';
export const CNIL_COMPLAINTS = 'https://www.cnil.fr/fr/plaintes';
const ETALAB_LICENCE = 'https://www.etalab.gouv.fr/licence-ouverte-open-licence/';

/** What a page states about this server: the cookies' names as this server sets them, and whether it is a sandbox. */
interface Facts {
  sessionCookie: string;
  signInCookie: string;
  sandbox: boolean;
}

/** A paragraph, or a list (its items). Texts take `[label](href)` links and `` `code` ``. */
type Block = string | readonly string[];
interface Section {
  heading: string;
  blocks: readonly Block[];
}
interface LegalPage {
  title: string;
  intro: readonly Block[];
  sections: readonly Section[];
}

const minutes = (seconds: number) => seconds / 60;
const days = (seconds: number) => seconds / 86_400;

const accessibility = messages<(facts: Facts, date: string) => LegalPage>({
  fr: (_facts, date) => ({
    title: 'Déclaration d’accessibilité',
    intro: [
      'L’opérateur de cette plateforme s’engage à rendre ses services en ligne accessibles, conformément à l’article 47 de la loi n° 2005-102 du 11 février 2005.',
      'Cette déclaration d’accessibilité s’applique aux pages de la plateforme des applications de Mon espace santé servies par ce site : l’accueil, la connexion, l’écran d’accord, « Mes applications connectées », l’historique des accès, le catalogue des applications et les pages légales.',
    ],
    sections: [
      {
        heading: 'État de conformité',
        blocks: [
          'Ce site est **non conforme** avec le référentiel général d’amélioration de l’accessibilité (RGAA), version 4.1 : aucun audit de conformité au RGAA n’a été réalisé, et un site qui n’a pas été audité est déclaré non conforme.',
        ],
      },
      {
        heading: 'Ce qui est vérifié à chaque modification',
        blocks: [
          'Sans remplacer un audit, des tests automatiques vérifient les pages dans un vrai navigateur (Chromium) à chaque modification de la plateforme :',
          [
            'l’outil axe-core ne relève aucune erreur aux règles des WCAG 2.1, niveaux A et AA, à la largeur d’un ordinateur (1280 px) et d’un téléphone (360 px) ;',
            'chaque page se parcourt au clavier seul : le premier arrêt est le lien « Aller au contenu », chaque élément atteint montre où est le focus, et le parcours ne reste bloqué nulle part ;',
            'les pages fonctionnent sans JavaScript : elles n’en utilisent aucun ;',
            'rien ne défile horizontalement sur un écran de 360 px de large.',
          ],
        ],
      },
      {
        heading: 'Contenus non accessibles',
        blocks: ['Faute d’audit, la liste des contenus non accessibles n’est pas établie. Signalez-nous tout contenu qui vous pose problème (voir ci-dessous).'],
      },
      {
        heading: 'Établissement de cette déclaration',
        blocks: [
          `Cette déclaration a été établie le ${date}.`,
          'Technologies utilisées : HTML et CSS, sans JavaScript. Tests : Chromium et axe-core, JavaScript désactivé pour la navigation au clavier.',
        ],
      },
      {
        heading: 'Retour d’information et contact',
        blocks: [
          `Si vous n’arrivez pas à accéder à un contenu ou à un service, écrivez à [${LEGAL_CONTACTS.accessibility}](mailto:${LEGAL_CONTACTS.accessibility}) pour être orienté vers une solution accessible ou obtenir le contenu sous une autre forme.`,
        ],
      },
      {
        heading: 'Voies de recours',
        blocks: [
          'Si vous nous avez signalé un défaut d’accessibilité qui vous empêche d’accéder à un contenu ou à un service, et que vous n’avez pas obtenu de réponse satisfaisante, vous pouvez :',
          [
            `écrire un message au Défenseur des droits, avec [son formulaire en ligne](${DEFENSEUR_DES_DROITS_FORM}) ;`,
            'contacter le délégué du Défenseur des droits dans votre région ;',
            'envoyer un courrier par la poste (gratuit, ne pas mettre de timbre) : Défenseur des droits, Libre réponse 71120, 75342 Paris CEDEX 07.',
          ],
        ],
      },
    ],
  }),
  en: (_facts, date) => ({
    title: 'Accessibility statement',
    intro: [
      'The operator of this platform is committed to making its online services accessible, in accordance with article 47 of French law no. 2005-102 of 11 February 2005.',
      'This accessibility statement applies to the pages of the Mon espace santé app platform served by this site: the home page, sign-in, the consent screen, “My connected apps”, the access history, the app catalogue and the legal pages.',
    ],
    sections: [
      {
        heading: 'Compliance status',
        blocks: [
          'This site is **non-compliant** with the French accessibility framework RGAA (référentiel général d’amélioration de l’accessibilité), version 4.1: no RGAA compliance audit has been carried out, and a site that has not been audited is declared non-compliant (“non conforme”).',
        ],
      },
      {
        heading: 'What is checked at every change',
        blocks: [
          'While not a substitute for an audit, automated tests check the pages in a real browser (Chromium) at every change of the platform:',
          [
            'the axe-core tool reports no violation of the WCAG 2.1 level A and AA rules, at a computer’s width (1280 px) and a phone’s (360 px);',
            'every page can be used with the keyboard alone: the first stop is the “Skip to content” link, every element reached shows where the focus is, and the walk never gets stuck;',
            'the pages work without JavaScript: they use none;',
            'nothing scrolls sideways on a screen 360 px wide.',
          ],
        ],
      },
      {
        heading: 'Non-accessible content',
        blocks: ['Without an audit, the list of non-accessible content has not been drawn up. Tell us about any content you have trouble with (see below).'],
      },
      {
        heading: 'Preparation of this statement',
        blocks: [
          `This statement was made on ${date}.`,
          'Technologies used: HTML and CSS, no JavaScript. Tests: Chromium and axe-core, JavaScript off for the keyboard walk.',
        ],
      },
      {
        heading: 'Feedback and contact',
        blocks: [
          `If you cannot access some content or a service, write to [${LEGAL_CONTACTS.accessibility}](mailto:${LEGAL_CONTACTS.accessibility}) to be directed to an accessible alternative or to get the content in another form.`,
        ],
      },
      {
        heading: 'Remedies',
        blocks: [
          'If you reported an accessibility problem that keeps you from some content or a service and did not get a satisfactory answer, you can:',
          [
            `write to the Défenseur des droits (the French rights ombudsman) with [its online form](${DEFENSEUR_DES_DROITS_FORM}) (in French);`,
            'contact the Défenseur des droits’ delegate in your region;',
            'send a letter by post (free of charge, no stamp needed): Défenseur des droits, Libre réponse 71120, 75342 Paris CEDEX 07.',
          ],
        ],
      },
    ],
  }),
});

const legalNotice = messages<(facts: Facts) => LegalPage>({
  fr: (facts) => ({
    title: 'Mentions légales',
    intro: [
      'Ce service est la plateforme des applications de Mon espace santé : le catalogue des applications certifiées par l’État, leur certification, l’accord que chaque patient leur donne, l’accès à ses données et l’historique de ces accès.',
      ...(facts.sandbox ? ['Ce serveur est un bac à sable : ses patients sont fictifs et il ne contient aucune donnée de santé réelle.'] : []),
    ],
    sections: [
      {
        heading: 'Éditeur',
        blocks: [
          'Ce service est édité par l’organisme qui déploie et exploite cette plateforme (l’opérateur). Le directeur de la publication est son représentant légal.',
        ],
      },
      {
        heading: 'Hébergement',
        blocks: [
          'Les données de santé à caractère personnel traitées par ce service doivent être hébergées par un hébergeur certifié « hébergeur de données de santé » (HDS), conformément à l’article L.1111-8 du code de la santé publique. L’opérateur choisit cet hébergeur.',
        ],
      },
      {
        heading: 'Propriété intellectuelle',
        blocks: [
          `Sauf mention contraire, les contenus de ce site sont publiés sous la [licence Etalab 2.0](${ETALAB_LICENCE}) (Licence Ouverte) : vous pouvez les réutiliser en citant leur source.`,
          'Les noms, logos et descriptions des applications appartiennent à leurs éditeurs.',
          'La police Marianne et le logo de l’État (bloc-marque) du Système de design de l’État (DSFR) sont réservés aux sites de l’État : ils ne peuvent pas être réutilisés ailleurs.',
        ],
      },
      {
        heading: 'Contact',
        blocks: [
          `Pour toute question sur ce service, écrivez à [${LEGAL_CONTACTS.operator}](mailto:${LEGAL_CONTACTS.operator}).`,
          `Vos données personnelles : voir la page [Données personnelles](${LEGAL_LINKS.privacy}). L’accessibilité : voir la [déclaration d’accessibilité](${LEGAL_LINKS.accessibility}).`,
        ],
      },
    ],
  }),
  en: (facts) => ({
    title: 'Legal notice',
    intro: [
      'This service is the app platform of Mon espace santé: the catalogue of apps certified by the State, their certification, the consent each patient gives them, the access to the patient’s data and the history of those accesses.',
      ...(facts.sandbox ? ['This server is a sandbox: its patients are fictitious and it holds no real health data.'] : []),
    ],
    sections: [
      {
        heading: 'Publisher',
        blocks: ['This service is published by the organisation that deploys and runs this platform (the operator). The director of publication is its legal representative.'],
      },
      {
        heading: 'Hosting',
        blocks: [
          'Personal health data processed by this service must be hosted by a host certified for health data (HDS, “hébergeur de données de santé”), as article L.1111-8 of the French public health code requires. The operator chooses this host.',
        ],
      },
      {
        heading: 'Intellectual property',
        blocks: [
          `Unless stated otherwise, the content of this site is published under the [Etalab 2.0 licence](${ETALAB_LICENCE}) (Licence Ouverte, Open Licence): you may reuse it, citing its source.`,
          'The names, logos and descriptions of the apps belong to their publishers.',
          'The Marianne font and the State’s logo (bloc-marque) of the State’s design system (DSFR) are reserved to State sites: they may not be reused elsewhere.',
        ],
      },
      {
        heading: 'Contact',
        blocks: [
          `For any question about this service, write to [${LEGAL_CONTACTS.operator}](mailto:${LEGAL_CONTACTS.operator}).`,
          `Your personal data: see the [Personal data](${LEGAL_LINKS.privacy}) page. Accessibility: see the [accessibility statement](${LEGAL_LINKS.accessibility}).`,
        ],
      },
    ],
  }),
});

const privacy = messages<(facts: Facts) => LegalPage>({
  fr: (facts) => ({
    title: 'Données personnelles',
    intro: [
      'Cette page dit ce que les pages de la plateforme font de vos données personnelles. L’opérateur qui déploie cette plateforme est responsable de ces traitements.',
      ...(facts.sandbox ? ['Ce serveur est un bac à sable : ses patients sont fictifs et il ne contient aucune donnée de santé réelle.'] : []),
    ],
    sections: [
      {
        heading: 'Cookies',
        blocks: [
          'Les pages déposent au plus trois cookies, tous strictement nécessaires au service que vous demandez ; aucun ne sert à vous suivre :',
          [
            `\`${facts.sessionCookie}\` : votre session, quand vous vous connectez. Elle dure ${minutes(PATIENT_SESSION_SECONDS)} minutes à partir de la connexion et prend fin dès que vous vous déconnectez.`,
            `\`${facts.signInCookie}\` : une connexion en cours auprès du service d’identité, le temps de revenir sur la plateforme (${minutes(SIGN_IN_ATTEMPT_SECONDS)} minutes au plus).`,
            `\`${LANGUAGE_COOKIE}\` : la langue que vous avez choisie avec le bouton de langue, pour un an (${days(LANGUAGE_COOKIE_SECONDS)} jours). Sans ce choix, il n’est pas déposé.`,
          ],
          'Les scripts ne peuvent pas lire ces cookies, et le navigateur ne les envoie pas avec un formulaire qu’un autre site lui ferait envoyer.',
        ],
      },
      {
        heading: 'Ni traçage, ni mesure d’audience, ni contenu de tiers',
        blocks: [
          'Les pages n’exécutent aucun script, ne mesurent pas l’audience et ne contiennent ni publicité ni contenu d’un autre site : la feuille de style et les images, logos des applications compris, viennent de la plateforme elle-même, et la politique de sécurité des contenus (CSP) envoyée avec chaque page interdit au navigateur de charger quoi que ce soit d’ailleurs. Les liens vers d’autres sites ne leur disent pas de quelle page vous venez.',
        ],
      },
      {
        heading: 'Ce que la plateforme enregistre',
        blocks: [
          [
            'Votre session : l’empreinte (SHA-256) du cookie, votre identifiant de patient, un jeton contre la falsification des formulaires et l’heure de fin prévue. Elle est effacée un jour après cette heure.',
            'Les accès que vous donnez aux applications : quelle application, pour qui, quelles permissions, jusqu’à quand, et, une fois terminés, quand et pourquoi. Ils restent listés dans « Mes applications connectées », terminés compris : c’est l’historique de qui a eu accès à votre dossier.',
            `L’historique des accès : chaque fois qu’une application lit, recherche ou ajoute des données de votre dossier, la plateforme enregistre, avant de lui répondre, quand, quelle application, au titre de quel accès, pour qui, qui a agi (vous, ou un représentant légal pour un enfant), quel type de données, quelle action et combien d’éléments ; jamais le contenu des données. Vous le consultez dans l’[historique des accès](/patient/history).`,
          ],
          'Durée de conservation de l’historique des accès : la plateforme ne l’efface jamais d’elle-même, sans limite de durée. Aucune entrée ne peut être modifiée ni effacée, et chacune est chaînée à la précédente, pour qu’une entrée modifiée ou retirée se voie à la vérification. Seul l’opérateur peut, selon sa politique de conservation, supprimer des mois entiers, les plus anciens.',
        ],
      },
      {
        heading: 'Les applications',
        blocks: [
          'Une application ne lit vos données qu’après votre accord. Une fois autorisée, elle est responsable de traitement, distincte de la plateforme, pour ce qu’elle lit : sa politique de confidentialité, indiquée sur sa page du catalogue et sur l’écran d’accord, dit ce qu’elle en fait. Retirer son accès, dans [Mes applications connectées](/patient/apps), l’empêche d’en lire davantage ; pour effacer ce qu’elle a déjà lu, adressez-vous à elle.',
        ],
      },
      {
        heading: 'Vos droits',
        blocks: [
          'Le règlement général sur la protection des données (RGPD) vous donne le droit :',
          [
            'd’accéder à vos données et d’en obtenir une copie ;',
            'de les faire rectifier si elles sont inexactes ;',
            'de les faire effacer, lorsque ce droit s’applique : l’historique des accès, qui sert de preuve, ne s’efface pas entrée par entrée ;',
            'de vous opposer à un traitement, dont l’accès des applications à votre dossier : toutes les applications perdent alors leur accès ;',
            'd’en faire limiter le traitement.',
          ],
          `Pour exercer ces droits, écrivez au délégué à la protection des données de l’opérateur : [${LEGAL_CONTACTS.dataProtection}](mailto:${LEGAL_CONTACTS.dataProtection}).`,
          `Si vous estimez que vos droits ne sont pas respectés, vous pouvez adresser une [réclamation à la CNIL](${CNIL_COMPLAINTS}).`,
        ],
      },
    ],
  }),
  en: (facts) => ({
    title: 'Personal data',
    intro: [
      'This page says what the platform’s pages do with your personal data. The operator who deploys this platform is the controller of this processing.',
      ...(facts.sandbox ? ['This server is a sandbox: its patients are fictitious and it holds no real health data.'] : []),
    ],
    sections: [
      {
        heading: 'Cookies',
        blocks: [
          'The pages set at most three cookies, all strictly necessary for the service you ask for; none is used to track you:',
          [
            `\`${facts.sessionCookie}\`: your session, when you sign in. It lasts ${minutes(PATIENT_SESSION_SECONDS)} minutes from sign-in and ends as soon as you sign out.`,
            `\`${facts.signInCookie}\`: a sign-in in progress at the identity service, while you come back to the platform (${minutes(SIGN_IN_ATTEMPT_SECONDS)} minutes at most).`,
            `\`${LANGUAGE_COOKIE}\`: the language you chose with the language switch, for a year (${days(LANGUAGE_COOKIE_SECONDS)} days). Without that choice, it is not set.`,
          ],
          'Scripts cannot read these cookies, and the browser does not send them with a form another site makes it post.',
        ],
      },
      {
        heading: 'No tracking, no audience measurement, no third-party content',
        blocks: [
          'The pages run no script, do not measure their audience and hold no advertising nor content from another site: the stylesheet and the images, apps’ logos included, come from the platform itself, and the content security policy (CSP) sent with every page forbids the browser to load anything from elsewhere. Links to other sites do not tell them which page you came from.',
        ],
      },
      {
        heading: 'What the platform records',
        blocks: [
          [
            'Your session: the fingerprint (SHA-256) of the cookie, your patient id, a token against forged forms and its planned end. It is deleted a day after that time.',
            'The accesses you give apps: which app, for whom, which permissions, until when, and, once ended, when and why. They stay listed in “My connected apps”, ended ones included: they are the history of who had access to your record.',
            `The access history: every time an app reads, searches or adds data of your record, the platform records, before answering it, when, which app, under which access, for whom, who acted (you, or a legal guardian for a child), which kind of data, which action and how many items; never the content of the data. You see it in the [access history](/patient/history).`,
          ],
          'How long the access history is kept: the platform never deletes it by itself, with no time limit. No entry can be changed or deleted, and each is chained to the previous one, so that an entry changed or removed shows at verification. Only the operator can, under its retention policy, remove whole months, the oldest ones.',
        ],
      },
      {
        heading: 'The apps',
        blocks: [
          'An app reads your data only after your consent. Once authorised, it is a controller of its own, separate from the platform, for what it reads: its privacy policy, shown on its catalogue page and on the consent screen, says what it does with it. Withdrawing its access, in [My connected apps](/patient/apps), stops it reading more; to have what it already read deleted, ask the app.',
        ],
      },
      {
        heading: 'Your rights',
        blocks: [
          'The General Data Protection Regulation (GDPR) gives you the right:',
          [
            'to access your data and get a copy of it;',
            'to have it rectified if it is inaccurate;',
            'to have it erased, where that right applies: the access history, which serves as proof, is not erased entry by entry;',
            'to object to processing, including apps’ access to your record: every app then loses its access;',
            'to have its processing restricted.',
          ],
          `To exercise these rights, write to the operator’s data protection officer: [${LEGAL_CONTACTS.dataProtection}](mailto:${LEGAL_CONTACTS.dataProtection}).`,
          `If you think your rights are not respected, you can [complain to the CNIL](${CNIL_COMPLAINTS}) (the French data protection authority; in French).`,
        ],
      },
    ],
  }),
});

/** French puts a no-break space before « : ; ! ? » and inside « ». */
const typography = (lang: Lang, text: string): string =>
  lang === 'fr' ? text.replace(/ ([:;!?»])/g, '\u00a0$1').replace(/« /g, '«\u00a0') : text;

const INLINE = /\[([^\]]+)\]\(([^)\s]+)\)|`([^`]+)`|\*\*([^*]+)\*\*/g;

/** A text with its links, code and strong parts as HTML; links to other sites send no referrer. */
function inline(lang: Lang, text: string): string {
  const words = (part: string) => escapeHtml(typography(lang, part));
  let html = '';
  let last = 0;
  for (const match of text.matchAll(INLINE)) {
    html += words(text.slice(last, match.index));
    const [, label, href, code, strong] = match;
    if (code !== undefined) html += `<code>${escapeHtml(code)}</code>`;
    else if (strong !== undefined) html += `<strong>${words(strong)}</strong>`;
    else html += `<a href="${escapeHtml(href!)}"${/^https?:/.test(href!) ? ' rel="noreferrer"' : ''}>${words(label!)}</a>`;
    last = match.index + match[0].length;
  }
  return html + words(text.slice(last));
}

const block = (lang: Lang, content: Block): string =>
  typeof content === 'string' ? `<p>${inline(lang, content)}</p>` : `<ul>\n${content.map((item) => `<li>${inline(lang, item)}</li>`).join('\n')}\n</ul>`;

function render(lang: Lang, page: LegalPage): string {
  const sections = page.sections.map((section) => [`<h2>${inline(lang, section.heading)}</h2>`, ...section.blocks.map((content) => block(lang, content))].join('\n'));
  return [`<h1>${inline(lang, page.title)}</h1>`, ...page.intro.map((content) => block(lang, content)), ...sections].join('\n');
}

/** `secureCookies`: the platform is served over HTTPS, so its cookies carry the `__Host-` prefix. */
export function legalPageHandlers(deps: PageDeps & { secureCookies: boolean }): HandlerMap<LegalOperations> {
  const facts = (sandbox: boolean): Facts => ({
    sessionCookie: patientSessionCookie(deps.secureCookies),
    signInCookie: signInAttemptCookie(deps.secureCookies),
    sandbox,
  });
  const show = async (request: FastifyRequest, pageOf: (lang: Lang, facts: Facts) => LegalPage) => {
    const ctx = await pageContext(deps, request);
    const page = pageOf(ctx.lang, facts(ctx.sandbox));
    return pageReply(200, { ...ctx, title: page.title, body: render(ctx.lang, page) });
  };
  return {
    showAccessibilityStatement: ({ request }) => show(request, (lang, f) => accessibility(lang)(f, formatCalendarDate(lang, ACCESSIBILITY_STATEMENT_DATE))),
    showLegalNotice: ({ request }) => show(request, (lang, f) => legalNotice(lang)(f)),
    showPrivacyNotice: ({ request }) => show(request, (lang, f) => privacy(lang)(f)),
  };
}
