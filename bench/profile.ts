// Summarises a V8 .cpuprofile (from `node --cpu-prof`): the functions with the most self time
// and the Helix source functions with the most inclusive time, to point at hot spots quickly.
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const shortUrl = (url: string): string =>
  url.replace(/^.*node_modules\/((@[^/]+\/)?[^/]+)\/.*$/, '$1').replace(/^.*\/(src|bench)\//, '$1/').replace(/^file:\/\//, '');

/** Top `n` self-time and inclusive (Helix's own functions only, from src/ or the compiled dist/) entries, as text lines. */
export function summariseProfile(path: string, n = 15): string {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const c of node.children ?? []) parent.set(c, node.id);
  const sampleTime = new Map<number, number>();
  profile.samples.forEach((id, i) => sampleTime.set(id, (sampleTime.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));

  const label = (node: ProfileNode): string => `${node.callFrame.functionName || '(anonymous)'} ${shortUrl(node.callFrame.url)}`.trim();
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const [id, t] of sampleTime) {
    const node = byId.get(id) as ProfileNode;
    total += t;
    if (node.callFrame.functionName === '(idle)') idle += t;
    self.set(label(node), (self.get(label(node)) ?? 0) + t);
    const seen = new Set<string>();
    for (let x: number | undefined = id; x !== undefined; x = parent.get(x)) {
      const n2 = byId.get(x) as ProfileNode;
      if (!/\/(src|dist)\//.test(n2.callFrame.url) || n2.callFrame.url.includes('node_modules')) continue;
      const key = label(n2);
      if (seen.has(key)) continue; // count recursion once
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + t);
    }
  }
  const busy = total - idle;
  const top = (m: Map<string, number>): string[] =>
    [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, t]) => `  ${(t / 1000).toFixed(0).padStart(7)} ms ${((100 * t) / busy).toFixed(1).padStart(5)}%  ${k}`);
  return [
    `profile ${path}: ${(total / 1e6).toFixed(1)} s sampled, ${(idle / 1e6).toFixed(1)} s idle; % of busy time`,
    'self time:', ...top(new Map([...self].filter(([k]) => !k.startsWith('(idle)')))),
    'inclusive, Helix functions:', ...top(inclusive),
  ].join('\n');
}
