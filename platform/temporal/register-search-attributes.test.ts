import { describe, expect, it } from 'vitest';
import { ensureSearchAttributes, SearchAttributesMissing } from './register-search-attributes.js';
import { ALL_SEARCH_ATTRIBUTES } from './search-attributes.js';

const ALL = ALL_SEARCH_ATTRIBUTES.map((a) => a.name);

/**
 * An operator service holding `have`. `refuse`: answers as a server that refuses this identity;
 * `race`: another worker adds them first, and this add fails with ALREADY_EXISTS.
 */
function server(have: string[], behaviour: 'add' | 'refuse' | 'race' = 'add') {
  const attributes = new Set(have);
  const added: string[][] = [];
  const operatorService = {
    listSearchAttributes: () => Promise.resolve({ customAttributes: Object.fromEntries([...attributes].map((a) => [a, 2])) }),
    addSearchAttributes: ({ searchAttributes }: { searchAttributes: Record<string, number> }) => {
      if (behaviour === 'refuse') return Promise.reject(new Error('7 PERMISSION_DENIED: Request unauthorized.'));
      if (behaviour === 'race') {
        for (const a of Object.keys(searchAttributes)) attributes.add(a);
        return Promise.reject(new Error('6 ALREADY_EXISTS: Search attribute KbBindingId already exists.'));
      }
      added.push(Object.keys(searchAttributes));
      for (const a of Object.keys(searchAttributes)) attributes.add(a);
      return Promise.resolve({});
    },
  };
  return { connection: { operatorService } as never, added };
}

describe('ensureSearchAttributes', () => {
  it('creates only what is missing, and nothing when all are there', async () => {
    const { connection, added } = server(['KbInstanceId', 'Unrelated']);
    expect(await ensureSearchAttributes(connection, 'ns')).toEqual(ALL.filter((a) => a !== 'KbInstanceId'));
    expect(await ensureSearchAttributes(connection, 'ns')).toEqual([]);
    expect(added).toHaveLength(1);
  });

  it('refused by the server, it names what is missing and the command that creates it', async () => {
    const { connection } = server(['KbInstanceId'], 'refuse');
    const err = await ensureSearchAttributes(connection, 'brokers').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SearchAttributesMissing);
    expect((err as Error).message).toContain(
      `the Temporal namespace brokers lacks the broker's search attributes ${ALL.filter((a) => a !== 'KbInstanceId').join(', ')}`,
    );
    expect((err as Error).message).toContain('PERMISSION_DENIED');
    expect((err as Error).message).toContain('temporal operator search-attribute create --namespace brokers --name KbBindingId --type Keyword');
  });

  it('another worker added them meanwhile (ALREADY_EXISTS): fine', async () => {
    const { connection } = server([], 'race');
    expect(await ensureSearchAttributes(connection, 'ns')).toEqual(ALL);
  });
});
