import type { Context } from 'hono';
import { describe, expect, it } from 'vitest';
import { BrokerError } from '../broker/errors.js';
import {
  acceptsIncomplete,
  bindBody,
  jsonBody,
  jsonDepth,
  MAX_JSON_DEPTH,
  MAX_RECORDED_FIELD_BYTES,
  orgAndSpace,
  pathId,
  provisionBody,
  requiredQuery,
  updateBody,
} from './requests.js';

/** Just enough of a Hono context for these readers. */
function context({
  params = {},
  query = {},
  body = '',
}: {
  params?: Record<string, string>;
  query?: Record<string, string>;
  body?: string | Uint8Array;
}): Context {
  const bytes = typeof body === 'string' ? new TextEncoder().encode(body) : body;
  return {
    req: {
      param: (name: string) => params[name],
      query: (name: string) => query[name],
      arrayBuffer: () => Promise.resolve(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)),
    },
  } as unknown as Context;
}

function badRequestOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(BrokerError);
    expect((err as BrokerError).status).toBe(400);
    return (err as BrokerError).description;
  }
  throw new Error('no 400');
}

async function asyncBadRequestOf(fn: () => Promise<unknown>): Promise<string> {
  const err = await fn().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(BrokerError);
  expect((err as BrokerError).status).toBe(400);
  return (err as BrokerError).description;
}

describe('pathId', () => {
  it.each(['a', '1', 'A.b_c-9', '0f2b4a1e-6c3d-4e5f-8a9b-0c1d2e3f4a5b', 'a'.repeat(63), 'a.b', 'a..b'])('accepts %s', (id) => {
    expect(pathId(context({ params: { instance_id: id } }), 'instance_id')).toBe(id);
    expect(pathId(context({ params: { binding_id: id } }), 'binding_id')).toBe(id);
  });

  it.each([
    ['empty', ''],
    ['a space', 'a b'],
    ['a leading -', '-x'],
    ['a trailing -', 'x-'],
    ['a leading .', '.x'],
    ['a trailing _', 'x_'],
    ['..', '..'],
    ['.', '.'],
    ['64 characters', 'a'.repeat(64)],
    ['a slash', 'a/b'],
    ['a colon', 'a:b'],
    ['non-ASCII', 'café'],
    ['a newline', 'a\nb'],
  ])('refuses %s, naming the parameter', (_name, id) => {
    expect(badRequestOf(() => pathId(context({ params: { instance_id: id } }), 'instance_id'))).toMatch(/^instance_id must be 1 to 63/);
    expect(badRequestOf(() => pathId(context({ params: { binding_id: id } }), 'binding_id'))).toMatch(/^binding_id must be 1 to 63/);
  });

  it('refuses a missing parameter', () => {
    expect(badRequestOf(() => pathId(context({}), 'instance_id'))).toMatch(/^instance_id/);
  });
});

describe('acceptsIncomplete', () => {
  it('the value true in any case (.NET and Python print True), nothing else', () => {
    for (const v of ['true', 'True', 'TRUE']) expect(acceptsIncomplete(context({ query: { accepts_incomplete: v } }))).toBe(true);
    for (const v of ['false', 'False', '1', 'yes', '']) expect(acceptsIncomplete(context({ query: { accepts_incomplete: v } }))).toBe(false);
    expect(acceptsIncomplete(context({}))).toBe(false);
  });
});

describe('requiredQuery', () => {
  it('returns the value, 400 naming the parameter when missing or empty', () => {
    expect(requiredQuery(context({ query: { service_id: 's' } }), 'service_id')).toBe('s');
    expect(badRequestOf(() => requiredQuery(context({}), 'service_id'))).toBe('the query parameter service_id is required');
    expect(badRequestOf(() => requiredQuery(context({ query: { plan_id: '' } }), 'plan_id'))).toBe('the query parameter plan_id is required');
  });
});

describe('jsonBody', () => {
  it('parses and validates, ignoring unknown fields', async () => {
    const body = JSON.stringify({ service_id: 's', plan_id: 'p', organization_guid: 'o', space_guid: 'sp', parameters: { a: 1 }, extra: true });
    expect(await jsonBody(context({ body }), provisionBody)).toEqual({
      service_id: 's',
      plan_id: 'p',
      organization_guid: 'o',
      space_guid: 'sp',
      parameters: { a: 1 },
    });
  });

  it('takes a null field as absent (clients that serialize every field send null for those left unset)', async () => {
    const body = JSON.stringify({
      service_id: 's',
      plan_id: 'p',
      organization_guid: 'o',
      space_guid: 'sp',
      context: null,
      parameters: null,
      maintenance_info: null,
    });
    expect(await jsonBody(context({ body }), provisionBody)).toEqual({ service_id: 's', plan_id: 'p', organization_guid: 'o', space_guid: 'sp' });
    expect(await asyncBadRequestOf(() => jsonBody(context({ body: '{"service_id":null}' }), updateBody))).toBe('service_id: service_id is required');
  });

  it.each([
    ['malformed', '{"a":', 'the request body is not valid JSON'],
    ['empty', '', 'the request body is not valid JSON'],
    ['an array', '[]', 'the request body must be a JSON object'],
    ['null', 'null', 'the request body must be a JSON object'],
    ['a string', '"s"', 'the request body must be a JSON object'],
    ['false', 'false', 'the request body must be a JSON object'],
  ])('400 for a body that is %s', async (_name, body, says) => {
    expect(await asyncBadRequestOf(() => jsonBody(context({ body }), provisionBody))).toContain(says);
  });

  it('400 for a body that is not UTF-8, instead of reading replacement characters', async () => {
    const body = Uint8Array.from([...Buffer.from('{"service_id":"s'), 0xff, 0xfe, ...Buffer.from('","plan_id":"p"}')]);
    expect(await asyncBadRequestOf(() => jsonBody(context({ body }), provisionBody))).toBe('the request body is not valid UTF-8: send JSON encoded as UTF-8');
  });

  it('400 for a body nested deeper than the limit, counted without recursion (2,000 levels do not overflow)', async () => {
    const nested = (depth: number) =>
      `{"service_id":"s","plan_id":"p","organization_guid":"o","space_guid":"sp","parameters":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}`;
    expect(await jsonBody(context({ body: nested(MAX_JSON_DEPTH - 1) }), provisionBody)).toMatchObject({ service_id: 's' });
    expect(await asyncBadRequestOf(() => jsonBody(context({ body: nested(MAX_JSON_DEPTH) }), provisionBody))).toBe(
      `the request body nests deeper than ${MAX_JSON_DEPTH} levels of objects and arrays`,
    );
    expect(await asyncBadRequestOf(() => jsonBody(context({ body: nested(2000) }), provisionBody))).toContain('nests deeper');
    expect(jsonDepth([[[]], {}])).toBe(3);
  });

  it.each(['parameters', 'context', 'bind_resource'])('413 for a %s larger than the record can hold', async (field) => {
    const body = JSON.stringify({ service_id: 's', plan_id: 'p', [field]: { big: 'x'.repeat(MAX_RECORDED_FIELD_BYTES) } });
    const err = await jsonBody(context({ body }), bindBody).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(BrokerError);
    expect(err).toMatchObject({
      status: 413,
      code: 'PayloadTooLarge',
      description: expect.stringMatching(new RegExp(`^${field} is \\d+ bytes of JSON; the broker stores at most ${MAX_RECORDED_FIELD_BYTES} bytes of it`)),
    });
  });

  it('takes the last of duplicate keys, as JSON.parse does', async () => {
    expect(await jsonBody(context({ body: '{"service_id":"a","service_id":"s","plan_id":"p"}' }), updateBody)).toMatchObject({ service_id: 's' });
  });

  it('says every field that is wrong, with its path', async () => {
    const body = JSON.stringify({ service_id: 1, plan_id: '', context: [], maintenance_info: { version: 2 } });
    const description = await asyncBadRequestOf(() => jsonBody(context({ body }), provisionBody));
    expect(description.split('; ').sort()).toEqual(
      [
        'service_id: service_id must be a string',
        'plan_id: plan_id must not be empty',
        'context: context must be a JSON object',
        'maintenance_info.version: maintenance_info.version must be a string',
        'organization_guid: organization_guid is required',
        'space_guid: space_guid is required',
      ].sort(),
    );
  });
});

describe('body schemas', () => {
  it('provision needs service_id, plan_id, organization_guid and space_guid (OSB 2.17), each non-empty', () => {
    const ids = { service_id: 's', plan_id: 'p', organization_guid: 'o', space_guid: 'sp' };
    expect(provisionBody.safeParse(ids).success).toBe(true);
    for (const field of Object.keys(ids)) {
      expect(provisionBody.safeParse({ ...ids, [field]: undefined }).success).toBe(false);
      expect(provisionBody.safeParse({ ...ids, [field]: '' }).success).toBe(false);
    }
  });

  it('maintenance_info without a version is absent; with one, kept; with a malformed one, refused', () => {
    const ids = { service_id: 's', plan_id: 'p', organization_guid: 'o', space_guid: 'sp' };
    for (const body of [provisionBody, updateBody]) {
      for (const absent of [{}, { version: null }, { description: 'd' }])
        expect(body.parse({ ...ids, maintenance_info: absent }).maintenance_info).toBeUndefined();
      expect(body.parse({ ...ids, maintenance_info: { version: '1.0.0', description: 'd' } }).maintenance_info).toEqual({ version: '1.0.0' });
      for (const wrong of [{ version: '' }, { version: 1 }, '1.0.0', []]) expect(body.safeParse({ ...ids, maintenance_info: wrong }).success).toBe(false);
    }
  });

  it('update needs service_id only', () => {
    expect(updateBody.safeParse({ service_id: 's' }).success).toBe(true);
    expect(updateBody.safeParse({ plan_id: 'p' }).success).toBe(false);
    expect(updateBody.safeParse({ service_id: 's', previous_values: { plan_id: 'p' } }).success).toBe(true);
  });

  it('bind takes everything optional (the route says which are required)', () => {
    expect(bindBody.safeParse({}).success).toBe(true);
    expect(bindBody.safeParse({ bind_resource: 'x' }).success).toBe(false);
    expect(bindBody.safeParse({ predecessor_binding_id: '' }).success).toBe(false);
  });
});

describe('orgAndSpace', () => {
  it('from the Cloud Foundry context first', () => {
    expect(orgAndSpace({ context: { organization_guid: 'o1', space_guid: 's1' }, organization_guid: 'o2', space_guid: 's2' })).toEqual({
      org: 'o1',
      space: 's1',
    });
  });

  it('else from the deprecated top-level fields', () => {
    expect(orgAndSpace({ organization_guid: 'o2', space_guid: 's2' })).toEqual({ org: 'o2', space: 's2' });
    expect(orgAndSpace({ context: { platform: 'kubernetes', namespace: 'ns' }, organization_guid: 'o2', space_guid: 's2' })).toEqual({
      org: 'o2',
      space: 's2',
    });
  });

  it('each field on its own', () => {
    expect(orgAndSpace({ context: { organization_guid: 'o1' }, space_guid: 's2' })).toEqual({ org: 'o1', space: 's2' });
  });

  it('ignores context values that are not strings', () => {
    expect(orgAndSpace({ context: { organization_guid: 7, space_guid: { id: 's' } }, organization_guid: 'o2' })).toEqual({ org: 'o2', space: '' });
  });

  it("'' when nobody says", () => {
    expect(orgAndSpace({})).toEqual({ org: '', space: '' });
    expect(orgAndSpace({ context: {} })).toEqual({ org: '', space: '' });
  });
});
