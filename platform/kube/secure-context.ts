// One TLS SecureContext per set of TLS material, instead of one per connection. Node builds a
// SecureContext for every new TLS socket from the request's ca, cert and key (parsing the key
// and certificates each time, 2.3 ms of CPU here), and every watch takes a new connection
// (~450 in a run of 100 provisions and deprovisions). KubeConfig hands over the material on
// every request (files may be rotated): a changed one builds a new context.
import type https from 'node:https';
import tls from 'node:tls';

type Material = https.RequestOptions['ca'];

function same(a: Material, b: Material): boolean {
  if (a === b) return true;
  if (Buffer.isBuffer(a) && Buffer.isBuffer(b)) return a.equals(b);
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => same(x, b[i]));
  return false;
}

export class SecureContextCache {
  private cached?: { ca: Material; cert: Material; key: https.RequestOptions['key']; context: tls.SecureContext };

  /** The context for these options' TLS material, built once while the material stays the same. */
  for(options: https.RequestOptions): tls.SecureContext {
    const { ca, cert, key } = options;
    const c = this.cached;
    if (c && same(c.ca, ca) && same(c.cert, cert) && same(c.key as Material, key as Material)) return c.context;
    const context = tls.createSecureContext({ ca, cert, key });
    this.cached = { ca, cert, key, context };
    return context;
  }
}
