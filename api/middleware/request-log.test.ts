// The request's logger is made when first used, and logs with the request's bindings.
import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { deferredChild } from './request-log.js';

function captured() {
  const lines: Record<string, unknown>[] = [];
  const logger = pino(
    { level: 'info' },
    new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        done();
      },
    }),
  );
  return { logger, lines };
}

describe('deferredChild', () => {
  it('makes no child until something uses it', () => {
    const { logger } = captured();
    let made = 0;
    const child = logger.child.bind(logger);
    logger.child = ((...args: Parameters<typeof child>) => (made++, child(...args))) as typeof logger.child;
    const log = deferredChild(logger, { requestId: 'r-1' });
    expect(made).toBe(0);
    log.info('one');
    log.warn('two');
    expect(made).toBe(1);
  });
  it("logs with its bindings, its parent's and its own children's", () => {
    const { logger, lines } = captured();
    const log = deferredChild(logger.child({ service: 's' }), { requestId: 'r-1' });
    log.info({ a: 1 }, 'one');
    deferredChild(log, { origin: { platform: 'cloudfoundry' } }).info('two');
    log.debug('not at info');
    expect(lines.map(({ time: _t, pid: _p, hostname: _h, ...rest }) => rest)).toEqual([
      { level: 30, service: 's', requestId: 'r-1', a: 1, msg: 'one' },
      { level: 30, service: 's', requestId: 'r-1', origin: { platform: 'cloudfoundry' }, msg: 'two' },
    ]);
    expect(log.isLevelEnabled('debug')).toBe(false);
    expect(log.level).toBe('info');
  });
});
