// An app's initials, shown in its tile when it has no logo to show: at most two letters (or
// digits), accents kept, upper case. Pure functions: no I/O.

/** Little words skipped when a name has others ("Carnet de vaccination" → "CV"). */
const CONNECTORS = new Set(['de', 'du', 'des', 'la', 'le', 'les', 'l', 'd', 'et', 'à', 'au', 'aux', 'en', 'pour', 'the', 'of', 'and', 'for', 'a', 'an']);

const graphemes = new Intl.Segmenter('fr', { granularity: 'grapheme' });

/** The first grapheme of a word that is a letter or a digit (with its accents), upper-cased. */
function firstLetter(word: string): string {
  for (const { segment } of graphemes.segment(word)) {
    const letter = /^[\p{L}\p{N}]\p{M}*/u.exec(segment);
    if (letter) return letter[0].toLocaleUpperCase('fr');
  }
  return '';
}

/**
 * The initials of an app's name: the first letters of its first two words (little words such as
 * "de" or "the" skipped when there are others); for one word, its first letter and the capital
 * inside it, if any ("TensioSuivi" → "TS"). Emoji and punctuation never count; a name without any
 * letter or digit has no initials (an empty string).
 */
export function initialsOf(name: string): string {
  // Words: runs of letters, digits and combining marks; anything else (spaces, punctuation,
  // apostrophes of elisions, emoji) separates them.
  // Variation selectors and the keycap mark belong to emoji ("3️⃣"), not to words.
  const words = name.normalize('NFC').replace(/[\uFE0E\uFE0F\u20E3]/g, ' ').match(/[\p{L}\p{N}\p{M}]+/gu) ?? [];
  if (!words.length) return '';
  const significant = words.filter((word) => !CONNECTORS.has(word.toLowerCase()));
  const chosen = significant.length ? significant : words;
  if (chosen.length >= 2) return firstLetter(chosen[0]!) + firstLetter(chosen[1]!);
  const word = chosen[0]!;
  // A capital after a lower-case letter starts a second part of one word ("GlycéMie" → "GM").
  const inner = /\p{Ll}\p{M}*(\p{Lu})/u.exec(word);
  return firstLetter(word) + (inner ? inner[1]! : '');
}
