// An app's initials, shown when it has no logo: two letters at most, accents kept, little words,
// emoji and punctuation skipped.
import { describe, expect, it } from 'vitest';
import { initialsOf } from '../src/web/initials.js';

describe('initials of an app’s name', () => {
  it.each([
    ['Carnet de vaccination', 'CV'],
    ['Premiers Pas', 'PP'],
    ['sommeil zen', 'SZ'],
    ['The Health of Kids', 'HK'],
    ['Équilibre, méditation guidée et sommeil', 'ÉM'],
    ['élan vital', 'ÉV'],
    // Decomposed accents (e + U+0301) are the same letter as composed ones.
    ['e\u0301lan vital', 'ÉV'],
    ['L’Œil d’Or', 'ŒO'],
    ['Santé+ (bêta)', 'SB'],
    ['3D Santé', '3S'],
    ['x-Ray', 'XR'],
  ])('%s → %s', (name, initials) => {
    expect(initialsOf(name)).toBe(initials);
  });

  it('takes one word’s first letter, and the capital inside it when it has one', () => {
    expect(initialsOf('Vaccins')).toBe('V');
    expect(initialsOf('TensioSuivi')).toBe('TS');
    expect(initialsOf('GlycéMie')).toBe('GM');
    expect(initialsOf('iSanté')).toBe('IS');
    expect(initialsOf('  mémo  ')).toBe('M');
    expect(initialsOf('東京')).toBe('東');
  });

  it('keeps little words when the name has nothing else', () => {
    expect(initialsOf('De la')).toBe('DL');
  });

  it('skips emoji and punctuation, and has no initials without a letter or digit', () => {
    expect(initialsOf('🩺 Tensio Suivi')).toBe('TS');
    expect(initialsOf('Tensio 💙 Suivi ✨')).toBe('TS');
    expect(initialsOf('3️⃣ Santé')).toBe('3S');
    expect(initialsOf('«Vaccins»!')).toBe('V');
    expect(initialsOf('🩺')).toBe('');
    expect(initialsOf('!!! ???')).toBe('');
    expect(initialsOf('')).toBe('');
  });
});
