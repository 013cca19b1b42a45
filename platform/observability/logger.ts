// Structured JSON logs (pino). Credentials never reach a log line: request bodies and
// binding credentials are not logged, and known secret fields are redacted as a safety net.
import { createRequire } from 'node:module';
import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger };

/** Whether a package resolves from here (pino-pretty: installed with the dev dependencies only). */
function installed(name: string): boolean {
  try {
    createRequire(import.meta.url).resolve(name);
    return true;
  } catch {
    return false;
  }
}

/**
 * `pretty` asks for human-readable lines through pino-pretty, a development dependency that
 * pino loads by name in a worker thread. Where it is not installed (a production image), logs
 * stay JSON and the first line says why: a display setting must not stop the broker.
 */
export function createLogger(
  level: string,
  pretty = false,
  options: { isInstalled?: (name: string) => boolean; destination?: DestinationStream } = {},
): Logger {
  const prettyAvailable = pretty && (options.isInstalled ?? installed)('pino-pretty');
  const logger = pino(
    {
      level,
      base: { service: 'kubernetes-broker' },
      redact: {
        paths: ['credentials', '*.credentials', 'password', '*.password', 'authorization', '*.authorization', 'req.headers.authorization'],
        censor: '[redacted]',
      },
      ...(prettyAvailable ? { transport: { target: 'pino-pretty', options: { colorize: true, singleLine: true } } } : {}),
    },
    options.destination,
  );
  if (pretty && !prettyAvailable) {
    logger.warn(
      'LOG_PRETTY is set but pino-pretty (a development dependency) is not installed: logging JSON. Install it (npm install --no-save pino-pretty) or unset LOG_PRETTY',
    );
  }
  return logger;
}
