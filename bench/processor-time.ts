import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { DataSource } from 'typeorm';

/*
 * Processor time is what a run costs whatever else the machine runs: on a shared two-core machine
 * wall-clock figures follow the load's share of the cores, processor time much less. Read from
 * /proc (Linux): a process's user and system time, in clock ticks.
 */
const CLOCK_TICKS_PER_SECOND = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

/** A process's user and system time so far, in ms; null when it is gone (or this is no Linux). */
export function processorMs(pid: number): number | null {
  try {
    // Fields after the command name (which may hold spaces): state is the first, utime the 12th, stime the 13th.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return null;
  }
}

/**
 * Starts measuring the processor time of the PostgreSQL backends `backendPids` lists (on the same
 * machine); the function it returns gives the ms they spent since.
 */
export async function startBackendMeter(backendPids: () => Promise<number[]>): Promise<() => Promise<number>> {
  const before = new Map<number, number>();
  for (const pid of await backendPids()) before.set(pid, processorMs(pid) ?? 0);
  return async () => {
    let spentMs = 0;
    // A backend that started during the run counts from zero; one that ended is lost (the pool keeps its connections while busy).
    for (const pid of new Set([...before.keys(), ...(await backendPids())])) {
      const now = processorMs(pid);
      if (now !== null) spentMs += now - (before.get(pid) ?? 0);
    }
    return spentMs;
  };
}

/** The client backends serving the database the query runs in (its own among them: a pool's connection may be one that works). */
export const BACKEND_PIDS_SQL =
  "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend'";

/**
 * Starts measuring the processor time of this process (all its threads) and, on PostgreSQL, of
 * the backends serving this data source's database (on the same machine); the function it returns
 * gives the ms each spent since. The backends are sampled every second, not only listed at the
 * start and the end: over a sweep of minutes the pool closes idle connections and opens others,
 * and a backend gone by the end took its processor time with it (a 2,000,000-device sweep's
 * PostgreSQL time read 26.1 s, its writing backend's ≈ 200 s lost).
 */
export async function startProcessorMeter(
  dataSource: DataSource,
): Promise<() => Promise<{ serviceMs: number; databaseMs: number | null }>> {
  const postgres = dataSource.options.type === 'postgres';
  const service = process.cpuUsage();
  const stopBackends = postgres
    ? startDatabaseProcessMeter(
        ((await dataSource.query('SELECT current_database() AS name')) as { name: string }[])[0].name,
        1_000,
      )
    : null;
  return async () => {
    const { user, system } = process.cpuUsage(service);
    return { serviceMs: (user + system) / 1000, databaseMs: stopBackends ? stopBackends() : null };
  };
}

/** The processes whose command line names `database` as PostgreSQL titles its backends ("postgres: … user database host …"). */
function databaseProcesses(database: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const title = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (title.startsWith('postgres: ') && title.includes(` ${database} `)) pids.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return pids;
}

/**
 * Starts measuring the processor time of every PostgreSQL backend serving `database` (on the same
 * machine), including connections opened and closed meanwhile (the bulk path's own): /proc is read
 * every `intervalMs`, so a backend that ends loses at most its last interval. The function it
 * returns stops sampling and gives the ms they spent since.
 */
export function startDatabaseProcessMeter(database: string, intervalMs = 100): () => number {
  const first = new Map<number, number>();
  const last = new Map<number, number>();
  const sample = (starting: boolean) => {
    for (const pid of databaseProcesses(database)) {
      const spent = processorMs(pid);
      if (spent === null) continue;
      if (!first.has(pid)) first.set(pid, starting ? spent : 0);
      last.set(pid, spent);
    }
  };
  sample(true);
  const timer = setInterval(() => sample(false), intervalMs);
  return () => {
    clearInterval(timer);
    sample(false);
    let spentMs = 0;
    for (const [pid, spent] of last) spentMs += spent - (first.get(pid) ?? 0);
    return spentMs;
  };
}
