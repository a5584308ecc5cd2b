// A what-if's result as the author and the reviewer read it: the outcome transitions with their
// counts, the same by region, and sample devices that open their device page.
import { FragmentType, graphql, readFragment } from '../gql';
import { Link } from '../router';
import { StatusBadge, Time } from '../ui';
import { Legend, MapRegion, WorldMap, drawnCodeOf, formatNumber, sequentialFills } from './overview-map';

export const PolicySimulationFragment = graphql(`
  fragment PolicySimulationView on PolicySimulation {
    attempts
    skippedAttempts
    changedAttempts
    changedDevices
    transitions {
      from
      to
      attempts
      devices
    }
    byRegion {
      from
      to
      attempts
      devices
      region {
        code
        name
      }
    }
    sampleDevices {
      id
      imei
      status
    }
  }
`);

const arrow = (from: string, to: string) => `${from}→${to}`;

export function SimulationView({
  simulation: masked,
  from,
  to,
  title,
}: {
  simulation: FragmentType<typeof PolicySimulationFragment>;
  from: string;
  to: string;
  title: string;
}) {
  const simulation = readFragment(PolicySimulationFragment, masked);
  const transitions = [...simulation.transitions].sort((a, b) => b.attempts - a.attempts);
  const byRegion = [...simulation.byRegion].sort(
    (a, b) => b.attempts - a.attempts || (a.region?.code ?? '').localeCompare(b.region?.code ?? ''),
  );
  return (
    <section className="simulation" aria-label={title}>
      <h3>{title}</h3>
      <p className="summary">
        Replayed <strong>{formatNumber(simulation.attempts)}</strong> attempts from <Time value={from} /> to{' '}
        <Time value={to} />: <strong>{formatNumber(simulation.changedAttempts)}</strong> would change outcome, on{' '}
        <strong>{formatNumber(simulation.changedDevices)}</strong>{' '}
        {simulation.changedDevices === 1 ? 'device' : 'devices'}.
        {simulation.skippedAttempts > 0 && (
          <span className="warning">
            {' '}
            {formatNumber(simulation.skippedAttempts)} attempts could not be replayed (signals purged).
          </span>
        )}
      </p>
      <table aria-label="Transitions">
        <thead>
          <tr>
            <th scope="col">Transition</th>
            <th scope="col">Attempts</th>
            <th scope="col">Devices</th>
          </tr>
        </thead>
        <tbody>
          {transitions.map((row) => (
            <tr key={arrow(row.from, row.to)}>
              <td>{arrow(row.from, row.to)}</td>
              <td>{formatNumber(row.attempts)}</td>
              <td>{formatNumber(row.devices)}</td>
            </tr>
          ))}
          {transitions.length === 0 && (
            <tr>
              <td colSpan={3}>No attempt of the window would change outcome.</td>
            </tr>
          )}
        </tbody>
      </table>
      <h4>By region</h4>
      {byRegion.length > 0 && <TransitionsMap rows={byRegion} />}
      <table aria-label="Transitions by region">
        <thead>
          <tr>
            <th scope="col">Region</th>
            <th scope="col">Transition</th>
            <th scope="col">Attempts</th>
            <th scope="col">Devices</th>
          </tr>
        </thead>
        <tbody>
          {byRegion.map((row) => (
            <tr key={`${row.region?.code ?? ''}|${arrow(row.from, row.to)}`}>
              <td>{row.region ? `${row.region.name} (${row.region.code})` : 'no region resolved'}</td>
              <td>{arrow(row.from, row.to)}</td>
              <td>{formatNumber(row.attempts)}</td>
              <td>{formatNumber(row.devices)}</td>
            </tr>
          ))}
          {byRegion.length === 0 && (
            <tr>
              <td colSpan={4}>No region changes.</td>
            </tr>
          )}
        </tbody>
      </table>
      {simulation.sampleDevices.length > 0 && (
        <>
          <h4>Sample devices whose outcome would change</h4>
          <ul className="sample-devices" aria-label="Sample devices">
            {simulation.sampleDevices.map((device) => (
              <li key={device.id}>
                <Link to={`/devices/${device.imei}`}>{device.imei}</Link> <StatusBadge status={device.status} />
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}

interface RegionTransition {
  from: string;
  to: string;
  attempts: number;
  devices: number;
  region?: { code: string; name: string } | null;
}

const countryNames = new Intl.DisplayNames('en', { type: 'region', fallback: 'code' });

/**
 * The attempts that change outcome by region on the world map: a region's colour by how many, its
 * description naming each transition (and the subdivision, for one drawn as part of its country).
 */
function TransitionsMap({ rows }: { rows: readonly RegionTransition[] }) {
  const byDrawn = new Map<string, { name: string; attempts: number; lines: string[] }>();
  for (const row of rows) {
    if (!row.region) continue;
    const code = drawnCodeOf(row.region.code);
    let entry = byDrawn.get(code);
    if (!entry) {
      let name = row.region.code === code ? row.region.name : code;
      if (row.region.code !== code)
        try {
          name = countryNames.of(code) ?? code;
        } catch {
          // An unknown code stays a code.
        }
      entry = { name: `${name} (${code})`, attempts: 0, lines: [] };
      byDrawn.set(code, entry);
    }
    entry.attempts += row.attempts;
    entry.lines.push(
      `${row.region.code === code ? '' : `${row.region.name} (${row.region.code}) `}${arrow(row.from, row.to)} ` +
        `${formatNumber(row.attempts)} ${row.attempts === 1 ? 'attempt' : 'attempts'} on ${formatNumber(row.devices)} ` +
        `${row.devices === 1 ? 'device' : 'devices'}`,
    );
  }
  const { fillOf, legend } = sequentialFills(new Map([...byDrawn].map(([code, entry]) => [code, entry.attempts])));
  const regions = new Map<string, MapRegion>();
  for (const [code, entry] of byDrawn)
    regions.set(code, {
      description: `${entry.name}: ${formatNumber(entry.attempts)} ${entry.attempts === 1 ? 'attempt changes' : 'attempts change'} outcome (${entry.lines.join('; ')})`,
      fill: fillOf(entry.attempts),
    });
  return (
    <WorldMap
      label="Attempts that would change outcome, by region, on the map"
      regions={regions}
      hint="Hover over a region for its transitions."
      legend={
        <>
          Attempts changing outcome: <Legend steps={legend} />
        </>
      }
    />
  );
}

/** One line for a change request's note: what the author saw when submitting. */
export function simulationSummary(masked: FragmentType<typeof PolicySimulationFragment>, from: string, to: string) {
  const simulation = readFragment(PolicySimulationFragment, masked);
  const day = (iso: string) => iso.slice(0, 16).replace('T', ' ') + ' UTC';
  const transitions = simulation.transitions
    .map((row) => `${arrow(row.from, row.to)} ${formatNumber(row.attempts)}`)
    .join(', ');
  return (
    `Simulated ${day(from)} to ${day(to)}: ${formatNumber(simulation.changedAttempts)} of ${formatNumber(simulation.attempts)} attempts ` +
    `change outcome (${transitions || 'none'}), ${formatNumber(simulation.changedDevices)} devices.`
  );
}
