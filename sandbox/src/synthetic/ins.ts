// The INS (NIR-shaped national health identifier) of a synthetic patient: 13 digits and their
// two-digit key, built so that it can never be a real person's number.
import { civil, type Day } from './calendar.js';

/**
 * Department code of every synthetic number. Real NIRs carry the birth department (01–95, 2A/2B
 * for Corsica, 97x/98x overseas, 99 abroad); 00 is not a department, so no real person has it.
 */
export const SYNTHETIC_DEPARTMENT = '00';

/** Patients that get distinct commune/order pairs: 990 communes × 999 orders. */
export const DISTINCT_NUMBERS = 990 * 999;

/** The key of a NIR: 97 − (the 13-digit number mod 97), on two digits. */
export function nirKey(first13: string): string {
  if (!/^\d{13}$/.test(first13)) throw new RangeError(`"${first13}" is not 13 digits`);
  // Digit by digit: the number is above 2^53, and BigInt is not needed for a remainder.
  let remainder = 0;
  for (const digit of first13) remainder = (remainder * 10 + Number(digit)) % 97;
  return String(97 - remainder).padStart(2, '0');
}

/**
 * The 15-character number of the `serial`-th patient (1-based): sex, year and month of birth as a
 * real NIR has them, department 00, then a commune and an order derived from the serial, so that
 * two patients never share a number (within the first DISTINCT_NUMBERS).
 */
export function syntheticNir(gender: 'female' | 'male', birth: Day, serial: number): string {
  const { year, month } = civil(birth);
  const index = (serial - 1) % DISTINCT_NUMBERS;
  const commune = String(Math.floor(index / 999) + 1).padStart(3, '0');
  const order = String((index % 999) + 1).padStart(3, '0');
  const first13 = `${gender === 'male' ? 1 : 2}${String(year % 100).padStart(2, '0')}${String(month).padStart(2, '0')}${SYNTHETIC_DEPARTMENT}${commune}${order}`;
  return `${first13}${nirKey(first13)}`;
}
