/**
 * IMEI rules (3GPP TS 23.003): 14 digits — an 8-digit Type Allocation Code (TAC) and a 6-digit
 * serial — followed by a Luhn check digit.
 */

/** The Luhn check digit for a string of digits (every second digit from the right is doubled). */
export function luhnCheckDigit(digits: string): number {
  let sum = 0;
  for (let index = 0; index < digits.length; index += 1) {
    let digit = digits.charCodeAt(digits.length - 1 - index) - 48;
    if (index % 2 === 0) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return (10 - (sum % 10)) % 10;
}

export type ImeiProblem = 'FORMAT' | 'CHECKSUM' | 'ALL_ZEROS';

/** Why `imei` is not a valid IMEI, or null when it is. */
export function imeiProblem(imei: string): ImeiProblem | null {
  if (!/^\d{15}$/.test(imei)) return 'FORMAT';
  if (/^0+$/.test(imei)) return 'ALL_ZEROS';
  return luhnCheckDigit(imei.slice(0, 14)) === Number(imei[14]) ? null : 'CHECKSUM';
}

export const imeiProblemMessages: Record<ImeiProblem, string> = {
  FORMAT: 'must be exactly 15 digits',
  CHECKSUM: 'fails the Luhn check digit',
  ALL_ZEROS: 'all zeros is not an IMEI',
};

/** Completes 14 digits into a valid IMEI. */
export function withCheckDigit(first14: string): string {
  return `${first14}${luhnCheckDigit(first14)}`;
}

export function typeAllocationCode(imei: string): string {
  return imei.slice(0, 8);
}
