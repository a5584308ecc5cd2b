import { FormEvent, useState } from 'react';
import { useQuery } from 'urql';
import { graphql } from '../gql';
import type { DeviceFilter, DeviceStatus } from '../gql/graphql';
import { imeiProblem, isCompleteImei } from '../imei';
import { Link, navigate, useLocation, withParams } from '../router';
import { Field, PageHeader, PagedTable, QueryStatus, StatusBadge, Time } from '../ui';

const DevicesQuery = graphql(`
  query DevicesPage($filter: DeviceFilter, $after: String) {
    devices(first: 25, after: $after, filter: $filter) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      nodes {
        id
        imei
        status
        lockedAt
        model {
          marketingName
        }
        partner {
          name
        }
        marketRegion {
          code
        }
      }
    }
  }
`);

const STATUSES: DeviceStatus[] = ['LOCKED', 'UNDER_REVIEW', 'ACTIVE', 'NEW'];

/** Devices by IMEI (checked as typed) and status; a complete IMEI opens the device. */
export function DevicesPage() {
  const location = useLocation();
  const prefix = location.params.get('imei') ?? '';
  const status = location.params.get('status') ?? '';
  const [typed, setTyped] = useState(prefix);
  const problem = imeiProblem(typed);
  const filter: DeviceFilter = {
    ...(prefix && /^\d+$/.test(prefix) ? { imeiPrefix: prefix } : {}),
    ...(status ? { statuses: [status as DeviceStatus] } : {}),
  };
  const [{ data, error, fetching }, refetch] = useQuery({
    query: DevicesQuery,
    variables: { filter, after: location.params.get('after') },
  });
  const search = (event: FormEvent) => {
    event.preventDefault();
    if (problem) return;
    if (isCompleteImei(typed)) navigate(`/devices/${typed}`);
    else navigate(withParams(location, { imei: typed, after: null }), { replace: true });
  };
  return (
    <div>
      <PageHeader title="Devices" />
      <form className="filters" role="search" aria-label="Find a device" onSubmit={search}>
        <Field
          label="IMEI"
          errors={problem ? [problem] : []}
          hint="15 digits (the last is a check digit), or the first digits to list matches"
        >
          {(props) => (
            <input
              {...props}
              inputMode="numeric"
              autoComplete="off"
              value={typed}
              size={18}
              onChange={(event) => setTyped(event.target.value.trim())}
            />
          )}
        </Field>
        <button type="submit" disabled={problem !== null}>
          {isCompleteImei(typed) ? 'Open device' : 'Search'}
        </button>
        <Field label="Status">
          {(props) => (
            <select
              {...props}
              value={status}
              onChange={(event) =>
                navigate(withParams(location, { status: event.target.value, after: null }), { replace: true })
              }
            >
              <option value="">Any</option>
              {STATUSES.map((value) => (
                <option key={value} value={value}>
                  {value.replace('_', ' ')}
                </option>
              ))}
            </select>
          )}
        </Field>
      </form>
      <QueryStatus error={error} fetching={fetching} data={data} refetch={refetch} what="devices" />
      {data && (
        <PagedTable
          label="Devices"
          total={{ count: data.devices.totalCount, one: 'device', many: 'devices' }}
          columns={['IMEI', 'Status', 'Model', 'Partner', 'Market', 'Locked']}
          count={data.devices.nodes.length}
          empty="No device matches."
          pageInfo={data.devices.pageInfo}
        >
          {data.devices.nodes.map((device) => (
            <tr key={device.id}>
              <td>
                <Link to={`/devices/${device.imei}`}>{device.imei}</Link>
              </td>
              <td>
                <StatusBadge status={device.status} />
              </td>
              <td>{device.model.marketingName}</td>
              <td>{device.partner.name}</td>
              <td>{device.marketRegion.code}</td>
              <td>
                <Time value={device.lockedAt} />
              </td>
            </tr>
          ))}
        </PagedTable>
      )}
    </div>
  );
}
