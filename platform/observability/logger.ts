// Structured JSON logs (pino). Credentials never reach a log line: request bodies and
// binding credentials are not logged, and known secret fields are redacted as a safety net.
import pino, { type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string, pretty = false): Logger {
  return pino({
    level,
    base: { service: 'kubernetes-broker' },
    redact: {
      paths: ['credentials', '*.credentials', 'password', '*.password', 'authorization', '*.authorization', 'req.headers.authorization'],
      censor: '[redacted]',
    },
    ...(pretty ? { transport: { target: 'pino-pretty', options: { colorize: true, singleLine: true } } } : {}),
  });
}
