import pino, { Logger } from 'pino';

export type { Logger };

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * Structured JSON lines on stdout (pino). Secrets and personal data are redacted by path, as a
 * second line of defence: the code logs neither.
 */
export function createLogger(level: LogLevel, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'compliance-graph' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: ['authorization', '*.authorization', 'secret', '*.secret', 'signals', '*.signals', 'gps', '*.gps'],
        censor: '[redacted]',
      },
    },
    destination,
  );
}
