// autocannon requests that spread connections over paths, as platforms poll: connection c asks
// for paths c, c+1, c+2, ... (mod their number), so that with at least as many paths as
// connections no two connections ask for the same one at once. (A plain autocannon `requests`
// list starts every connection at the first path, in lockstep: then the broker answers many polls
// of one operation with one shared describe, which flatters it.)
export function staggered(paths: string[]) {
  let connections = 0;
  return [
    {
      method: 'GET',
      setupRequest: (req: { method?: string; path?: string }, context: Record<string, unknown>) => {
        const i = (context['i'] as number | undefined) ?? connections++;
        context['i'] = i + 1;
        return { ...req, path: paths[i % paths.length]! };
      },
    },
  ];
}
