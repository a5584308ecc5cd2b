import { imeiProblem, luhnCheckDigit, typeAllocationCode, withCheckDigit } from '../../src/devices/imei';

describe('IMEI rules', () => {
  it.each([
    ['490154203237518', null], // the 3GPP example IMEI
    ['352918110000004', null],
    ['490154203237517', 'CHECKSUM'],
    ['49015420323751', 'FORMAT'],
    ['4901542032375189', 'FORMAT'],
    ['49015420323751A', 'FORMAT'],
    [' 490154203237518', 'FORMAT'],
    ['000000000000000', 'ALL_ZEROS'],
    ['', 'FORMAT'],
  ])('%s → %s', (imei, problem) => {
    expect(imeiProblem(imei)).toBe(problem);
  });

  it('computes the Luhn digit that makes a number valid', () => {
    expect(luhnCheckDigit('49015420323751')).toBe(8);
    for (let serial = 0; serial < 200; serial += 1) {
      expect(imeiProblem(withCheckDigit(`3529181100${String(serial).padStart(4, '0')}`))).toBeNull();
    }
  });

  it('catches every single-digit typo', () => {
    const imei = '490154203237518';
    for (let position = 0; position < 15; position += 1) {
      for (let digit = 0; digit <= 9; digit += 1) {
        if (String(digit) === imei[position]) continue;
        const typo = `${imei.slice(0, position)}${digit}${imei.slice(position + 1)}`;
        expect(imeiProblem(typo)).toBe('CHECKSUM');
      }
    }
  });

  it('reads the TAC', () => {
    expect(typeAllocationCode('490154203237518')).toBe('49015420');
  });
});
