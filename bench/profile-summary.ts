// Summarises a V8 CPU profile (node --cpu-prof): self time by package/area and the top functions,
// so that docs/performance.md can say where a process spends its CPU.
//   node --import tsx bench/profile-summary.ts <file.cpuprofile> [top]
import fs from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export function summarise(file: string, top = 25) {
  const p = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  p.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
  const total = (p.endTime - p.startTime) / 1000;
  const area = (url: string, fn: string) => {
    if (!url) return fn.startsWith('(') ? fn : '(native)';
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
    if (m) return m[1]!;
    if (url.startsWith('node:')) return 'node:' + url.slice(5).split('/')[0];
    const own = /\/work\/main\/([^/]+)\//.exec(url);
    return own ? `broker ${own[1]}/` : url;
  };
  const areas = new Map<string, number>(),
    fns = new Map<string, number>();
  for (const [id, us] of self) {
    const n = byId.get(id)!;
    const a = area(n.callFrame.url, n.callFrame.functionName);
    areas.set(a, (areas.get(a) ?? 0) + us / 1000);
    const f = `${n.callFrame.functionName || '(anonymous)'} ${a}:${n.callFrame.lineNumber + 1}`;
    fns.set(f, (fns.get(f) ?? 0) + us / 1000);
  }
  const sorted = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]).slice(0, top);
  const busy = total - (areas.get('(idle)') ?? 0);
  return { wallMs: total, busyMs: busy, areas: sorted(areas), functions: sorted(fns) };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const s = summarise(process.argv[2]!, Number(process.argv[3] ?? 25));
  console.log(`wall ${Math.round(s.wallMs)} ms, busy (not idle) ${Math.round(s.busyMs)} ms`);
  console.log('\nself time by area (ms):');
  for (const [a, ms] of s.areas) console.log(`  ${ms.toFixed(0).padStart(7)}  ${a}`);
  console.log('\ntop functions by self time (ms):');
  for (const [f, ms] of s.functions) console.log(`  ${ms.toFixed(0).padStart(7)}  ${f}`);
}
