import { readSettings } from '../../src/config';

/** The sweep's switches as the environment sets them: left out, each database's default applies (see sweep-runner.ts). */
describe('SWEEP_READ_AHEAD and SWEEP_OVERLAP_WRITES', () => {
  it('are left to the database when unset or empty', () => {
    for (const env of [{}, { SWEEP_READ_AHEAD: '', SWEEP_OVERLAP_WRITES: '' }]) {
      const { sweeps } = readSettings(env);
      expect(sweeps.readAhead).toBeUndefined();
      expect(sweeps.overlapWrites).toBeUndefined();
    }
  });

  it('are read as true or false', () => {
    expect(readSettings({ SWEEP_READ_AHEAD: 'false', SWEEP_OVERLAP_WRITES: 'true' }).sweeps).toMatchObject({
      readAhead: false,
      overlapWrites: true,
    });
    expect(readSettings({ SWEEP_READ_AHEAD: 'true', SWEEP_OVERLAP_WRITES: 'false' }).sweeps).toMatchObject({
      readAhead: true,
      overlapWrites: false,
    });
  });

  it('refuse anything else, naming the variable', () => {
    expect(() => readSettings({ SWEEP_READ_AHEAD: 'yes' })).toThrow(
      /SWEEP_READ_AHEAD must be true or false; got "yes"/,
    );
    expect(() => readSettings({ SWEEP_OVERLAP_WRITES: '1' })).toThrow(
      /SWEEP_OVERLAP_WRITES must be true or false; got "1"/,
    );
  });
});
