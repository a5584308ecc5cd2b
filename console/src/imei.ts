/** The Luhn check digit of the first 14 digits of an IMEI. */
export function checkDigit(first14: string): number {
  let sum = 0;
  for (let index = 0; index < 14; index++) {
    let digit = Number(first14[index]);
    if (index % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return (10 - (sum % 10)) % 10;
}

/** What is wrong with an IMEI as typed so far (null: nothing yet, or a valid complete IMEI). */
export function imeiProblem(typed: string): string | null {
  if (!typed) return null;
  if (!/^\d+$/.test(typed)) return 'An IMEI has digits only.';
  if (typed.length > 15) return 'An IMEI has 15 digits.';
  if (typed.length < 15) return null;
  const expected = checkDigit(typed.slice(0, 14));
  return Number(typed[14]) === expected ? null : `The check digit does not match: it should be ${expected}.`;
}

export const isCompleteImei = (typed: string) => typed.length === 15 && imeiProblem(typed) === null;
