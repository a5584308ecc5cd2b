/**
 * A long command showing its progress still stops on SIGTERM or Ctrl-C (SIGINT), as it would
 * without a bar; a command with its own handler for the signal keeps it.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const PROGRESS = join(__dirname, '..', '..', 'src', 'ops', 'progress.ts');

/** A child that shows a bar and works for ever (a timer keeps it alive), then gets `signal`. */
function signalled(signal: NodeJS.Signals, ownHandler: boolean): Promise<{ signal: string | null; stdout: string }> {
  const script = `
    const { startProgress } = require(${JSON.stringify(PROGRESS)});
    ${ownHandler ? `process.on('${signal}', () => { console.log('own stop'); process.exit(3); });` : ''}
    const progress = startProgress('work', 100, { unit: 'rows' });
    progress.advance(10);
    setInterval(() => progress.advance(1), 50);
    console.log('ready');
  `;
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', script], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  return new Promise((resolve, reject) => {
    const deadline = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the child did not stop on ${signal}; it printed: ${stdout}`));
    }, 10_000);
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.includes('ready') && !child.killed) child.kill(signal);
    });
    child.once('exit', (code, exitSignal) => {
      clearTimeout(deadline);
      resolve({ signal: exitSignal ?? (code === null ? null : `code ${code}`), stdout });
    });
  });
}

describe('a command with a progress bar', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)(
    'ends on %s',
    async (signal) => {
      expect((await signalled(signal, false)).signal).toBe(signal);
    },
    30_000,
  );

  it('leaves a command its own handler for the signal', async () => {
    const ended = await signalled('SIGTERM', true);
    expect(ended.signal).toBe('code 3');
    expect(ended.stdout).toContain('own stop');
  }, 30_000);
});
