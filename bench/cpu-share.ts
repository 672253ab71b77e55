// How much of the machine's CPU went to processes outside the benchmark while a phase ran: the
// bench shares two cores with the server and PostgreSQL, so anything else running (a test suite,
// a build) shows up directly in the latencies. Busy time comes from /proc/stat; the benchmark's
// own share is the CPU time of the load generator, the server and the PostgreSQL backends
// connected to the bench database (/proc/<pid>/stat). Linux only; elsewhere it reports nothing.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

const TICKS_PER_SECOND = 100; // USER_HZ, 100 on every Linux platform Node supports

function busyTicks(): number | undefined {
  try {
    const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal: everything but idle and iowait is busy.
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields;
    return user + nice + system + irq + softirq + steal;
  } catch {
    return undefined;
  }
}

function processTicks(pid: number): number {
  try {
    // Fields after the parenthesised command: state is field 3, utime and stime are 14 and 15.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(rest[11]) + Number(rest[12]);
  } catch {
    return 0; // exited
  }
}

/** A running measurement; `stop` gives the share of all CPUs other processes used, in percent. */
export interface CpuShare {
  stop(): Promise<number | undefined>;
}

/** Starts measuring; `ownPids` lists the benchmark's processes (asked at start and at stop). */
export async function measureCpuShare(ownPids: () => Promise<number[]>): Promise<CpuShare> {
  const busy0 = busyTicks();
  const pids0 = new Set(await ownPids());
  const own0 = new Map([...pids0].map((p) => [p, processTicks(p)]));
  const t0 = performance.now();
  return {
    async stop() {
      const busy1 = busyTicks();
      if (busy0 === undefined || busy1 === undefined) return undefined;
      const pids = new Set([...pids0, ...(await ownPids())]);
      let own = 0;
      for (const p of pids) own += processTicks(p) - (own0.get(p) ?? 0);
      const capacity = ((performance.now() - t0) / 1000) * TICKS_PER_SECOND * availableParallelism();
      return Math.max(0, (100 * (busy1 - busy0 - own)) / capacity);
    },
  };
}
