import { withCheckDigit } from '../../src/devices/imei';

/** The type allocation code of the seed model AR-5. */
export const AR5_TAC = '35291811';

/**
 * A valid IMEI (its check digit computed) for a six-digit serial number under a model's TAC, AR-5's
 * unless another is given. Test files that share a database keep apart by serial ranges.
 */
export function imeiOf(serial: number, tac = AR5_TAC): string {
  return withCheckDigit(`${tac}${String(serial).padStart(6, '0')}`);
}
