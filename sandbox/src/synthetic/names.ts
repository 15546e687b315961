// French names and places of the synthetic patients: given names by generation, family names,
// towns with postal codes (overseas too), streets. Drawn in combination, so no patient is a real person.

/** Given names by the period they were most given in, so that a patient's name fits their age. */
export interface GivenNames {
  before1960: readonly string[];
  from1960: readonly string[];
  from1990: readonly string[];
}

export const femaleNames: GivenNames = {
  before1960: [
    'Marie', 'Jeanne', 'Françoise', 'Monique', 'Catherine', 'Nicole', 'Jacqueline', 'Anne', 'Sylvie', 'Martine',
    'Christiane', 'Danielle', 'Brigitte', 'Michèle', 'Colette', 'Geneviève', 'Josiane', 'Yvette', 'Simone', 'Suzanne',
    'Paulette', 'Odette', 'Germaine', 'Huguette', 'Marie-Thérèse', 'Bernadette', 'Éliane', 'Andrée',
  ],
  from1960: [
    'Nathalie', 'Isabelle', 'Valérie', 'Sandrine', 'Christine', 'Véronique', 'Stéphanie', 'Céline', 'Laurence', 'Sophie',
    'Aurélie', 'Julie', 'Émilie', 'Caroline', 'Audrey', 'Virginie', 'Hélène', 'Karine', 'Delphine', 'Élodie',
    'Mélanie', 'Séverine', 'Marie-Claire', 'Claire', 'Agnès', 'Florence', 'Anaïs',
  ],
  from1990: [
    'Emma', 'Léa', 'Chloé', 'Manon', 'Camille', 'Inès', 'Jade', 'Louise', 'Zoé', 'Lina',
    'Léna', 'Alice', 'Sarah', 'Juliette', 'Clémence', 'Maëlys', 'Lucie', 'Océane', 'Éloïse', 'Ambre',
    'Rose', 'Anna', 'Mila', 'Romane', 'Agathe', 'Margaux', 'Noémie',
  ],
};

export const maleNames: GivenNames = {
  before1960: [
    'Jean', 'Pierre', 'Michel', 'André', 'Jacques', 'Bernard', 'Claude', 'Gérard', 'René', 'Marcel',
    'Roger', 'Robert', 'Daniel', 'Alain', 'Henri', 'Georges', 'Louis', 'Raymond', 'Serge', 'Guy',
    'Jean-Pierre', 'Jean-Claude', 'Yves', 'Lucien', 'Maurice', 'Gilbert', 'Francis',
  ],
  from1960: [
    'Philippe', 'Christophe', 'Stéphane', 'Laurent', 'Frédéric', 'Olivier', 'Nicolas', 'Sébastien', 'Thierry', 'Pascal',
    'Éric', 'David', 'Julien', 'Jérôme', 'Vincent', 'Cédric', 'Franck', 'Ludovic', 'Grégory', 'Loïc',
    'Mickaël', 'Fabrice', 'Benoît', 'Guillaume', 'Arnaud', 'Hervé', 'Yannick', 'Jean-François',
  ],
  from1990: [
    'Lucas', 'Hugo', 'Gabriel', 'Léo', 'Aaron', 'Raphaël', 'Arthur', 'Jules', 'Adam', 'Nathan',
    'Théo', 'Noah', 'Tom', 'Ethan', 'Maël', 'Paul', 'Sacha', 'Timéo', 'Enzo', 'Mathis',
    'Nolan', 'Gaël', 'Baptiste', 'Clément', 'Maxime', 'Antoine', 'Noé',
  ],
};

export const familyNames: readonly string[] = [
  'Martin', 'Bernard', 'Thomas', 'Petit', 'Robert', 'Richard', 'Durand', 'Dubois', 'Moreau', 'Laurent',
  'Simon', 'Michel', 'Lefèvre', 'Leroy', 'Roux', 'David', 'Bertrand', 'Morel', 'Fournier', 'Girard',
  'Bonnet', 'Dupont', 'Lambert', 'Fontaine', 'Rousseau', 'Vincent', 'Muller', 'Lefebvre', 'Faure', 'André',
  'Mercier', 'Blanc', 'Guérin', 'Boyer', 'Garnier', 'Chevalier', 'François', 'Legrand', 'Gauthier', 'Garcia',
  'Perrin', 'Robin', 'Clément', 'Morin', 'Nicolas', 'Henry', 'Roussel', 'Mathieu', 'Gautier', 'Masson',
  'Marchand', 'Duval', 'Denis', 'Dumont', 'Lemaire', 'Noël', 'Meyer', 'Dufour', 'Meunier', 'Brun',
  'Blanchard', 'Giraud', 'Joly', 'Rivière', 'Lucas', 'Brunet', 'Gaillard', 'Barbier', 'Arnaud', 'Martinez',
  'Gérard', 'Roche', 'Renard', 'Schmitt', 'Roy', 'Leroux', 'Colin', 'Vidal', 'Caron', 'Picard',
  'Roger', 'Fabre', 'Aubert', 'Lemoine', 'Renaud', 'Dumas', 'Lacroix', 'Olivier', 'Philippe', 'Bourgeois',
  'Benoît', 'Rey', 'Leclerc', 'Payet', 'Rolland', 'Lecomte', 'Lopez', 'Dupuy', 'Guillot', 'Hubert',
  'Berger', 'Carpentier', 'Sanchez', 'Dupuis', 'Moulin', 'Deschamps', 'Huet', 'Vasseur', 'Perez', 'Boucher',
  'Fleury', 'Royer', 'Klein', 'Jacquet', 'Adam', 'Poirier', 'Marty', 'Aubry', 'Guyot', 'Carré',
  'Charpentier', 'Ménard', 'Maillard', 'Baron', 'Bertin', 'Bailly', 'Hervé', 'Schneider', 'Fernandez', 'Le Gall',
  'Collet', 'Léger', 'Bouvier', 'Prévost', 'Millet', 'Perrot', 'Le Roux', 'Germain', 'Breton', 'Besson',
  'Langlois', 'Rémy', 'Le Goff', 'Pelletier', 'Lévêque', 'Perrier', 'Leblanc', 'Lebrun', 'Weber', 'Hamon',
  'Grondin', 'Hoarau', 'Étienne', 'Chauvin', 'Da Silva', 'Lemaître', 'Bénard', 'Tessier', 'Michaud', 'Jacob',
];

export interface Town {
  city: string;
  postalCode: string;
}

export const towns: readonly Town[] = [
  { city: 'Paris', postalCode: '75011' },
  { city: 'Paris', postalCode: '75015' },
  { city: 'Paris', postalCode: '75018' },
  { city: 'Marseille', postalCode: '13008' },
  { city: 'Lyon', postalCode: '69003' },
  { city: 'Toulouse', postalCode: '31000' },
  { city: 'Nice', postalCode: '06000' },
  { city: 'Nantes', postalCode: '44000' },
  { city: 'Montpellier', postalCode: '34000' },
  { city: 'Strasbourg', postalCode: '67000' },
  { city: 'Bordeaux', postalCode: '33000' },
  { city: 'Lille', postalCode: '59000' },
  { city: 'Rennes', postalCode: '35000' },
  { city: 'Reims', postalCode: '51100' },
  { city: 'Toulon', postalCode: '83000' },
  { city: 'Saint-Étienne', postalCode: '42000' },
  { city: 'Le Havre', postalCode: '76600' },
  { city: 'Grenoble', postalCode: '38000' },
  { city: 'Dijon', postalCode: '21000' },
  { city: 'Angers', postalCode: '49000' },
  { city: 'Nîmes', postalCode: '30000' },
  { city: 'Clermont-Ferrand', postalCode: '63000' },
  { city: 'Le Mans', postalCode: '72000' },
  { city: 'Aix-en-Provence', postalCode: '13100' },
  { city: 'Brest', postalCode: '29200' },
  { city: 'Tours', postalCode: '37000' },
  { city: 'Amiens', postalCode: '80000' },
  { city: 'Limoges', postalCode: '87000' },
  { city: 'Annecy', postalCode: '74000' },
  { city: 'Perpignan', postalCode: '66000' },
  { city: 'Metz', postalCode: '57000' },
  { city: 'Besançon', postalCode: '25000' },
  { city: 'Orléans', postalCode: '45000' },
  { city: 'Rouen', postalCode: '76000' },
  { city: 'Caen', postalCode: '14000' },
  { city: 'Nancy', postalCode: '54000' },
  { city: 'Ajaccio', postalCode: '20000' },
  { city: 'Pau', postalCode: '64000' },
  { city: 'La Rochelle', postalCode: '17000' },
  { city: 'Poitiers', postalCode: '86000' },
  { city: 'Quimper', postalCode: '29000' },
  { city: 'Chambéry', postalCode: '73000' },
  { city: 'Saint-Denis', postalCode: '97400' },
  { city: 'Saint-Pierre', postalCode: '97410' },
  { city: 'Fort-de-France', postalCode: '97200' },
  { city: 'Pointe-à-Pitre', postalCode: '97110' },
  { city: 'Cayenne', postalCode: '97300' },
  { city: 'Mamoudzou', postalCode: '97600' },
];

export const streets: readonly string[] = [
  'rue de la République', 'rue Victor-Hugo', 'avenue Jean-Jaurès', 'rue Pasteur', 'place de la Mairie',
  'rue des Écoles', 'chemin des Vignes', 'allée des Tilleuls', 'boulevard Gambetta', 'rue du Moulin',
  'impasse des Lilas', 'rue de l’Église', 'avenue du Général-Leclerc', 'rue des Peupliers', 'rue Jules-Ferry',
  'rue de la Gare', 'chemin du Lavoir', 'rue Émile-Zola', 'rue des Acacias', 'avenue de la Libération',
  'rue du Stade', 'rue des Jardins', 'place du Marché', 'rue Voltaire', 'rue des Mimosas',
  'rue Sainte-Anne', 'route de la Plage', 'rue des Cerisiers', 'rue du Château', 'allée des Marronniers',
];

/** The given names of people born in `year`. */
export function givenNamesFor(names: GivenNames, year: number): readonly string[] {
  if (year < 1960) return names.before1960;
  if (year < 1990) return names.from1960;
  return names.from1990;
}
