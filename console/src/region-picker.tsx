// Picks the regions a policy covers: search countries and subdivisions by name or ISO code; each
// country found lists its subdivisions under it, and a subdivision found stands under its country.
// A country covers its subdivisions (as the engine reads it), which the list says instead of
// offering them again.
import { useEffect, useId, useState } from 'react';
import { useQuery } from 'urql';
import { graphql, readFragment } from './gql';
import type { RegionRef } from './pages/policy-rules';

const RegionSearchQuery = graphql(`
  query RegionSearch($name: String!, $codes: [String!]!) {
    byName: regions(first: 20, filter: { nameContains: $name }, orderBy: { field: NAME }) {
      nodes {
        ...RegionPickerItem
      }
    }
    byCode: regions(first: 5, filter: { codes: $codes }) {
      nodes {
        ...RegionPickerItem
      }
    }
  }
`);

const RegionPickerItemFragment = graphql(`
  fragment RegionPickerItem on Region {
    code
    name
    kind
    parent {
      code
      name
    }
    children(first: 100, orderBy: { field: NAME }) {
      nodes {
        code
        name
      }
    }
  }
`);

interface Found {
  country: RegionRef;
  subdivisions: RegionRef[];
}

/** Countries found, each with the subdivisions to show under it. */
function group(
  regions: readonly {
    code: string;
    name: string;
    kind: string;
    parent?: RegionRef | null;
    children: { nodes: readonly RegionRef[] };
  }[],
): Found[] {
  const byCountry = new Map<string, Found>();
  for (const region of regions) {
    if (region.kind === 'COUNTRY') {
      const entry = byCountry.get(region.code) ?? { country: region, subdivisions: [] };
      for (const child of region.children.nodes)
        if (!entry.subdivisions.some((sub) => sub.code === child.code)) entry.subdivisions.push(child);
      byCountry.set(region.code, entry);
    } else if (region.parent) {
      const entry = byCountry.get(region.parent.code) ?? { country: region.parent, subdivisions: [] };
      if (!entry.subdivisions.some((sub) => sub.code === region.code))
        entry.subdivisions.push({ code: region.code, name: region.name });
      byCountry.set(region.parent.code, entry);
    }
  }
  return [...byCountry.values()];
}

export function RegionPicker({
  value,
  onChange,
  errors = [],
  readOnly = false,
}: {
  value: RegionRef[];
  onChange: (regions: RegionRef[]) => void;
  errors?: string[];
  readOnly?: boolean;
}) {
  const id = useId();
  const [typed, setTyped] = useState('');
  const [search, setSearch] = useState('');
  // One request per pause in typing, not one per key.
  useEffect(() => {
    const timer = setTimeout(() => setSearch(typed.trim()), 250);
    return () => clearTimeout(timer);
  }, [typed]);
  const [{ data, fetching, error }] = useQuery({
    query: RegionSearchQuery,
    variables: { name: search, codes: [search.toUpperCase()] },
    pause: search.length < 2,
  });
  const selected = new Set(value.map((region) => region.code));
  const toggle = (region: RegionRef) =>
    onChange(
      selected.has(region.code)
        ? value.filter((item) => item.code !== region.code)
        : [...value, { code: region.code, name: region.name }],
    );
  const found =
    data && search.length >= 2
      ? group([
          ...readFragment(RegionPickerItemFragment, data.byCode.nodes),
          ...readFragment(RegionPickerItemFragment, data.byName.nodes),
        ])
      : [];

  return (
    <fieldset className="region-picker" aria-describedby={errors.length ? `${id}-errors` : undefined}>
      <legend>Regions</legend>
      <ul className="chosen" aria-label="Chosen regions">
        {value.map((region) => (
          <li key={region.code}>
            {region.name} ({region.code})
            {!readOnly && (
              <button
                type="button"
                className="remove"
                onClick={() => toggle(region)}
                aria-label={`Remove ${region.name}`}
              >
                ×
              </button>
            )}
          </li>
        ))}
        {value.length === 0 && <li className="hint">No region chosen yet.</li>}
      </ul>
      {errors.length > 0 && (
        <span id={`${id}-errors`} className="field-error" role="alert">
          {errors.join('; ')}
        </span>
      )}
      {!readOnly && (
        <>
          <div className="field">
            <label htmlFor={`${id}-search`}>Find a country or subdivision</label>
            <input
              id={`${id}-search`}
              type="search"
              value={typed}
              autoComplete="off"
              onChange={(event) => setTyped(event.target.value)}
              // Enter searches at once instead of submitting the policy form around the picker.
              onKeyDown={(event) => {
                if (event.key === 'Enter') {
                  event.preventDefault();
                  setSearch(typed.trim());
                }
              }}
              aria-describedby={`${id}-hint`}
            />
            <span id={`${id}-hint`} className="hint">
              A name (&ldquo;Crimea&rdquo;, &ldquo;Belarus&rdquo;) or an ISO code (BY, UA-43); two characters at least.
            </span>
          </div>
          {error && <p role="alert">The search failed: {error.message}</p>}
          {fetching && <p className="loading">Searching…</p>}
          {search.length >= 2 && data && (
            <ul className="found" aria-label="Regions found">
              {found.map(({ country, subdivisions }) => (
                <li key={country.code}>
                  <label>
                    <input type="checkbox" checked={selected.has(country.code)} onChange={() => toggle(country)} />{' '}
                    {country.name} ({country.code})
                  </label>
                  {subdivisions.length > 0 && (
                    <ul aria-label={`Subdivisions of ${country.name}`}>
                      {subdivisions.map((sub) => (
                        <li key={sub.code}>
                          <label>
                            <input
                              type="checkbox"
                              checked={selected.has(sub.code) || selected.has(country.code)}
                              disabled={selected.has(country.code)}
                              onChange={() => toggle(sub)}
                            />{' '}
                            {sub.name} ({sub.code})
                            {selected.has(country.code) && (
                              <span className="hint"> — covered through {country.code}</span>
                            )}
                          </label>
                        </li>
                      ))}
                    </ul>
                  )}
                </li>
              ))}
              {found.length === 0 && <li>No country or subdivision matches &ldquo;{search}&rdquo;.</li>}
            </ul>
          )}
        </>
      )}
    </fieldset>
  );
}
