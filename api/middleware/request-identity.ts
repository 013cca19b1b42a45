// X-Broker-API-Request-Identity: the platform's id of a request (OSB: the broker SHOULD echo it),
// or a new UUID when it sends none or one unfit for logs; handlers read it as `requestId`. On
// Node (@hono/node-server) the echo goes straight onto Node's response, which merges it with the
// answer's own headers: hono's `c.header` makes an undici `Headers` object for every answer,
// and a route that answers with a plain header object (the catalog) then needs none
// (docs/performance.md section 4).
import { randomUUID } from 'node:crypto';
import type { HttpBindings } from '@hono/node-server';
import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../env.js';

export const REQUEST_IDENTITY = 'X-Broker-API-Request-Identity';
// What hono's requestId middleware accepted: word characters, '-' and '=', at most 255.
const USABLE = /^[\w\-=]{1,255}$/;

export const requestIdentity = createMiddleware<AppEnv>(async (c, next) => {
  const given = c.req.header(REQUEST_IDENTITY);
  const id = given !== undefined && USABLE.test(given) ? given : randomUUID();
  c.set('requestId', id);
  const outgoing = (c.env as Partial<HttpBindings> | undefined)?.outgoing;
  if (outgoing) {
    outgoing.setHeader(REQUEST_IDENTITY, id);
    return next();
  }
  // Elsewhere (app.request in tests, another runtime): on the answer, whichever it is.
  await next();
  c.header(REQUEST_IDENTITY, id);
});
