// The French vaccination schedule (calendrier des vaccinations) as the synthetic records apply it:
// which vaccine, which dose, on which day, for someone born on a given day.
import { addMonths, addYears, ageOn, civil, dayOf, type Day } from './calendar.js';
import type { Random } from './random.js';

export interface Dose {
  /** ATC code, a key of the vocabulary's `vaccines`. */
  atc: string;
  /** The dose's number in its series (`protocolApplied.doseNumberPositiveInt`). */
  dose: number;
  day: Day;
}

/**
 * The schedule in its current form dates from the 2013 reform; older doses live in paper
 * vaccination booklets, not in the record, so the record holds none before this day.
 */
export const RECORDED_SINCE: Day = dayOf(2013, 1, 1);
/** Meningococcal B vaccination was recommended for every infant from April 2022. */
const MENINGOCOCCAL_B_FROM: Day = dayOf(2022, 4, 1);
/** HPV vaccination was extended to boys in January 2021. */
const HPV_BOYS_FROM: Day = dayOf(2021, 1, 1);
/** Autumn Covid-19 booster campaigns for people of 65 and over. */
const COVID_AUTUMN_CAMPAIGNS: readonly Day[] = [dayOf(2022, 10, 3), dayOf(2023, 10, 2), dayOf(2024, 10, 15), dayOf(2025, 10, 14), dayOf(2026, 10, 13)];
/** The adult diphtheria-tetanus-polio boosters: at 25, 45 and 65, then every ten years. */
const ADULT_BOOSTER_AGES = [25, 45, 65, 75, 85, 95];

/**
 * Every dose given to someone born on `birth`, before `reference`, in date order. Each series
 * draws from its own stream, so a change to one series leaves the others as they were. `assured`
 * (the showcase patient) takes every adult dose offered.
 */
export function vaccinationDoses(rng: Random, birth: Day, gender: 'female' | 'male', reference: Day, assured = false): Dose[] {
  const doses: Dose[] = [];
  const give = (atc: string, dose: number, day: Day) => {
    if (day >= RECORDED_SINCE && day < reference && day > birth) doses.push({ atc, dose, day });
  };

  // Infants: hexavalent and pneumococcal together at 2, 4 and 11 months (compulsory since 2018).
  const infant = rng.fork('infant');
  if (infant.chance(0.97)) {
    [2, 4, 11].forEach((months, i) => {
      const day = addMonths(birth, months) + infant.int(0, 20);
      give('J07CA09', i + 1, day);
      give('J07AL02', i + 1, day);
    });
  }
  const meningococcal = rng.fork('meningococcal');
  if (meningococcal.chance(0.92)) {
    give('J07AH08', 1, addMonths(birth, 5) + meningococcal.int(0, 20));
    give('J07AH08', 2, addMonths(birth, 12) + meningococcal.int(0, 20));
  }
  if (birth >= MENINGOCOCCAL_B_FROM && meningococcal.chance(0.85)) {
    [3, 5, 12].forEach((months, i) => give('J07AH09', i + 1, addMonths(birth, months) + meningococcal.int(0, 20)));
  }
  const measles = rng.fork('measles');
  if (measles.chance(0.93)) {
    give('J07BD52', 1, addMonths(birth, 12) + measles.int(0, 20));
    if (measles.chance(0.92)) give('J07BD52', 2, addMonths(birth, 16) + measles.int(0, 60));
  }

  // Children: DTCaP booster at 6, dTcaP at 11–13 (doses 4 and 5 of the diphtheria-tetanus series).
  const boosters = rng.fork('child-boosters');
  if (boosters.chance(0.9)) give('J07CA02', 4, addYears(birth, 6) + boosters.int(0, 150));
  if (boosters.chance(0.8)) give('J07CA02', 5, addYears(birth, 11) + boosters.int(0, 700));

  // HPV: two doses six months apart, started between 11 and 13.
  const hpv = rng.fork('hpv');
  const eleven = addYears(birth, 11);
  if (gender === 'female' ? hpv.chance(0.55) : eleven >= HPV_BOYS_FROM && hpv.chance(0.4)) {
    const first = eleven + hpv.int(0, 900);
    give('J07BM03', 1, first);
    give('J07BM03', 2, first + hpv.int(180, 300));
  }

  const adult = rng.fork('adult-boosters');
  ADULT_BOOSTER_AGES.forEach((age, i) => {
    if (adult.chance(0.5) || assured) give('J07CA01', 6 + i, addYears(birth, age) + adult.int(0, 330));
  });

  // Influenza every autumn from 65; people who get it once tend to get it every year.
  const flu = rng.fork('influenza');
  const habit = flu.pick([0.15, 0.55, 0.9]);
  for (let year = 2013; year <= civil(reference).year; year++) {
    const day = dayOf(year, 10, 15) + flu.int(0, 75);
    const vaccinated = flu.chance(habit);
    if (vaccinated && ageOn(birth, day) >= 65) give('J07BB02', 1, day);
  }

  // Covid-19: the 2021 campaign opened by age, then a booster, then autumn boosters from 65.
  const covid = rng.fork('covid');
  if (covid.chance(0.8) || assured) {
    const ageIn2021 = ageOn(birth, dayOf(2021, 1, 1));
    const first =
      ageIn2021 >= 75 ? dayOf(2021, 1, 18) + covid.int(0, 45) : ageIn2021 >= 50 ? dayOf(2021, 3, 15) + covid.int(0, 75) : dayOf(2021, 5, 31) + covid.int(0, 120);
    const second = first + covid.int(28, 42);
    const series: Day[] = [first, second];
    if (covid.chance(0.75) || assured) series.push(second + covid.int(150, 240));
    for (const campaign of COVID_AUTUMN_CAMPAIGNS) {
      const day = campaign + covid.int(0, 60);
      if (covid.chance(0.4) && ageOn(birth, day) >= 65) series.push(day);
    }
    // Adults only: a dose before the 18th birthday is not part of this series.
    const adultFrom = addYears(birth, 18);
    let dose = 0;
    for (const day of series) {
      if (day < adultFrom) continue;
      dose += 1;
      give('J07BN01', dose, day);
    }
  }

  return doses.sort((a, b) => a.day - b.day || (a.atc < b.atc ? -1 : a.atc > b.atc ? 1 : 0));
}
