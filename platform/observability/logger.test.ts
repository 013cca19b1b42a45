import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';

/** A destination that keeps the JSON lines pino writes. */
function capture() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(
        ...String(chunk)
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as Record<string, unknown>),
      );
      done();
    },
  });
  return { lines, destination };
}

describe('createLogger', () => {
  it('without pino-pretty installed, LOG_PRETTY logs JSON and says so first', () => {
    const { lines, destination } = capture();
    const asked: string[] = [];
    const logger = createLogger('info', true, { isInstalled: (name) => (asked.push(name), false), destination });
    logger.info({ credentials: { password: 'secret' } }, 'hello');
    expect(asked).toEqual(['pino-pretty']);
    expect(lines[0]).toMatchObject({ level: 40, msg: expect.stringMatching(/LOG_PRETTY.*pino-pretty.*not installed.*JSON/) });
    expect(lines[1]).toMatchObject({ msg: 'hello', credentials: '[redacted]', service: 'kubernetes-broker' });
  });

  it('without LOG_PRETTY, never looks for pino-pretty', () => {
    const { lines, destination } = capture();
    const logger = createLogger('info', false, { isInstalled: () => expect.unreachable('pino-pretty looked up'), destination });
    logger.info('hello');
    expect(lines.map((l) => l['msg'])).toEqual(['hello']);
  });
});
