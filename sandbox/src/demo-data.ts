// Synthetic demo publisher and apps of the sandbox. Every name, number and address here is
// invented; the `.example.fr`-style hosts do not belong to anyone. Each app's logo is drawn by
// demo-logos.ts and given to the platform by the seed, since its logoUrl cannot be fetched.
import { certification, type catalog } from '@mes/catalog-api';
import type { DemoLogoName } from './demo-logos.js';

export const demoPublisher = {
  name: 'Démo Santé Numérique',
  registrationNumber: certification.SANDBOX_DEMO_PUBLISHER_REGISTRATION,
  contactEmail: 'contact@demo-sante.example.fr',
  domains: ['demo-sante.example.fr'],
};

const site = (app: string) => `https://${app}.demo-sante.example.fr`;

function app(
  slug: string,
  fields: Pick<catalog.AppInput, 'name' | 'shortDescription' | 'longDescription' | 'category' | 'scopes'>,
  certified: boolean,
  logo: DemoLogoName,
): catalog.AppInput & { certified: boolean; logo: DemoLogoName } {
  return {
    ...fields,
    websiteUrl: site(slug),
    logoUrl: `${site(slug)}/logo.png`,
    redirectUris: [`${site(slug)}/oauth/callback`, 'http://127.0.0.1/callback'],
    privacyPolicyUrl: `${site(slug)}/confidentialite`,
    termsUrl: `${site(slug)}/conditions`,
    supportContact: { email: `support@${slug}.demo-sante.example.fr` },
    certified,
    logo,
  };
}

export const demoApps = [
  app(
    'tensiosuivi',
    {
      name: 'TensioSuivi',
      shortDescription: { fr: 'Suivez votre tension artérielle au quotidien.', en: 'Track your blood pressure every day.' },
      longDescription: {
        fr: 'TensioSuivi relève les mesures de votre tensiomètre connecté, les ajoute à votre profil médical et vous aide à préparer vos rendez-vous.',
        en: 'TensioSuivi records the readings of your connected monitor, adds them to your health record and helps you prepare appointments.',
      },
      category: 'suivi-maladie-chronique',
      scopes: [
        { scope: 'launch/patient', justification: 'Savoir pour quel patient les mesures sont enregistrées.' },
        { scope: 'patient/Observation.crs?category=vital-signs', justification: 'Lire et ajouter vos mesures de tension artérielle.' },
        { scope: 'offline_access', justification: 'Synchroniser les mesures du tensiomètre sans vous redemander votre accord.' },
      ],
    },
    true,
    'heartbeat',
  ),
  app(
    'vaccinscarnet',
    {
      name: 'Carnet de vaccination',
      shortDescription: { fr: 'Vos vaccins et les rappels à venir.', en: 'Your vaccinations and upcoming boosters.' },
      longDescription: {
        fr: 'Consultez les vaccinations de votre famille et recevez un rappel quand une injection du calendrier vaccinal approche.',
      },
      category: 'prevention',
      scopes: [
        { scope: 'launch/patient', justification: 'Savoir de quel membre de la famille afficher le carnet.' },
        { scope: 'patient/Immunization.rs', justification: 'Afficher vos vaccinations et calculer les rappels.' },
        { scope: 'patient/Patient.rs', justification: "Connaître votre âge pour appliquer le calendrier vaccinal." },
      ],
    },
    true,
    'shield',
  ),
  app(
    'glycemie',
    {
      name: 'GlycéMie',
      shortDescription: { fr: 'Le carnet de glycémie des personnes diabétiques.' },
      longDescription: {
        fr: 'GlycéMie importe les mesures de votre lecteur de glycémie, les partage avec votre profil médical et affiche vos traitements en cours.',
      },
      category: 'suivi-maladie-chronique',
      scopes: [
        { scope: 'launch/patient', justification: 'Savoir pour quel patient les mesures sont enregistrées.' },
        { scope: 'offline_access', justification: 'Envoyer les mesures du lecteur de glycémie sans vous redemander à chaque fois.' },
        { scope: 'patient/Observation.crs', justification: 'Lire et ajouter vos mesures de glycémie.', required: true },
        { scope: 'patient/MedicationStatement.rs', justification: 'Afficher vos traitements antidiabétiques en cours.' },
      ],
    },
    true,
    'drop',
  ),
  app(
    'premierspas',
    {
      name: 'Premiers Pas',
      shortDescription: { fr: 'Le suivi de santé de votre enfant, de la naissance à 6 ans.' },
      longDescription: {
        fr: 'Courbes de croissance, vaccinations et rendez-vous des examens obligatoires de votre enfant, au même endroit.',
      },
      category: 'parentalite',
      scopes: [
        { scope: 'launch/patient', justification: 'Savoir de quel enfant afficher le suivi.' },
        { scope: 'patient/Observation.rs?category=vital-signs', justification: 'Tracer les courbes de poids et de taille.' },
        { scope: 'patient/Immunization.rs', justification: 'Afficher les vaccinations obligatoires.' },
        { scope: 'patient/Appointment.rs', justification: 'Rappeler les examens de santé obligatoires.' },
      ],
    },
    true,
    'footsteps',
  ),
  app(
    'sommeilzen',
    {
      name: 'Sommeil Zen',
      shortDescription: { fr: 'Un programme pour mieux dormir (en cours de certification).' },
      longDescription: { fr: 'Sommeil Zen propose un programme de huit semaines pour retrouver un sommeil réparateur.' },
      category: 'bien-etre',
      scopes: [{ scope: 'patient/Observation.rs', justification: 'Lire vos mesures de sommeil et de fréquence cardiaque.' }],
    },
    false,
    'moon',
  ),
];
