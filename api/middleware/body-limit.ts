// Request bodies larger than the limit: 413 with an OSB error body, and the connection closed
// (the rest of the body stays unread, so the connection cannot be reused).
import { bodyLimit } from 'hono/body-limit';
import { tooLarge } from '../../broker/errors.js';

export const limitBody = (maxBytes: number) =>
  bodyLimit({
    maxSize: maxBytes,
    onError: (c) => {
      c.header('Connection', 'close');
      throw tooLarge(maxBytes);
    },
  });
