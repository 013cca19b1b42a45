// With CODEC_KEYS, failure messages and stack traces go into Temporal's history inside an encoded
// payload (encrypted by the codec like any other), not in clear text: the history shows "Encoded
// failure", the Temporal UI shows them decoded through /codec. A module of its own with a
// `failureConverter` export: the worker loads it by path into the workflows' bundle as well.
// Without keys the attributes are the same data in a plain payload, so every worker, built or
// from sources, writes the same histories.
import { DefaultFailureConverter } from '@temporalio/common';

export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
