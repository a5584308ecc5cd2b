// What a policy version (or a change request's proposal) says, as one plain shape, and the diff of
// two of them field by field: the history page compares versions with it, the change requests page
// a proposal with the version it was proposed against.
import type { ReactNode } from 'react';
import { FragmentType, graphql, readFragment } from '../gql';
import { Time } from '../ui';
import { Legend, MapRegion, WorldMap, drawnCodeOf } from './overview-map';
import type { PolicyAction, PolicyMode } from '../gql/graphql';

export interface RegionRef {
  code: string;
  name: string;
}

export interface PolicyRules {
  title: string;
  mode: PolicyMode;
  action: PolicyAction;
  priority: number;
  /** null: from the moment the change is approved (a proposal only). */
  effectiveFrom: string | null;
  effectiveUntil: string | null;
  regions: RegionRef[];
  /** Model codes (with their names when known); empty: every model. */
  models: RegionRef[];
  lockMessage: string;
  /** Locale → text; undefined when the source does not say (a proposal's translations are not published). */
  translations?: Record<string, string>;
}

export const PolicyVersionRulesFragment = graphql(`
  fragment PolicyVersionRules on PolicyVersion {
    id
    number
    title
    description
    legalBasis
    mode
    action
    priority
    effectiveFrom
    effectiveUntil
    approvedAt
    approvedBy
    createdAt
    lockMessage
    lockMessageTranslations {
      locale
      text
    }
    regions(first: 100) {
      nodes {
        code
        name
      }
    }
    productScope(first: 100) {
      nodes {
        code
        marketingName
      }
    }
  }
`);

export type VersionRules = ReturnType<typeof readVersion>;

export function readVersion(masked: FragmentType<typeof PolicyVersionRulesFragment>) {
  return readFragment(PolicyVersionRulesFragment, masked);
}

/** A version's rules in the diff's shape. */
export function rulesOfVersion(version: VersionRules): PolicyRules {
  return {
    title: version.title,
    mode: version.mode,
    action: version.action,
    priority: version.priority,
    effectiveFrom: version.effectiveFrom,
    effectiveUntil: version.effectiveUntil ?? null,
    regions: version.regions.nodes.map((region) => ({ code: region.code, name: region.name })),
    models: version.productScope.nodes.map((model) => ({ code: model.code, name: model.marketingName })),
    lockMessage: version.lockMessage,
    translations: Object.fromEntries(version.lockMessageTranslations.map((message) => [message.locale, message.text])),
  };
}

/** Scripts written right to left: the phone shows their lock message that way. */
const RTL_LANGUAGES = new Set(['ar', 'fa', 'he', 'ur', 'ps', 'yi', 'dv', 'ku', 'sd', 'ug']);
export const isRightToLeft = (locale: string) => RTL_LANGUAGES.has(locale.split('-')[0]!.toLowerCase());

/** The message a phone with `locale` shows: the exact tag, then its language, then English (as the server picks it). */
export function lockMessageFor(english: string, translations: Record<string, string>, locale: string): string {
  if (!locale || locale === 'en') return english;
  const tag = locale.replace('_', '-');
  return translations[tag] ?? translations[tag.split('-')[0]!.toLowerCase()] ?? english;
}

/** A lock message as the locked phone shows it: its own script direction and language. */
export function PhonePreview({ message, locale }: { message: string; locale: string }) {
  return (
    <figure className="phone" aria-label={`Lock screen preview (${locale})`}>
      <div className="phone-screen" lang={locale} dir={isRightToLeft(locale) ? 'rtl' : 'ltr'}>
        {/* A padlock drawn inline: an emoji needs a colour font that a machine without one (this
            offline server, many desktops) shows as an empty box. */}
        <svg className="phone-lock" viewBox="0 0 24 24" width="32" height="32" aria-hidden="true" focusable="false">
          <rect x="4" y="10.5" width="16" height="11" rx="2" fill="currentColor" />
          <path d="M7.5 10.5V7.5a4.5 4.5 0 0 1 9 0v3" fill="none" stroke="currentColor" strokeWidth="2.2" />
          <circle cx="12" cy="15.5" r="1.6" fill="#1f2a44" />
        </svg>
        <p className="phone-message">{message}</p>
      </div>
      <figcaption>As a phone set to {locale} shows it</figcaption>
    </figure>
  );
}

export function effectiveWindow(rules: Pick<PolicyRules, 'effectiveFrom' | 'effectiveUntil'>) {
  return (
    <>
      {rules.effectiveFrom ? <Time value={rules.effectiveFrom} /> : 'from approval'} –{' '}
      {rules.effectiveUntil ? <Time value={rules.effectiveUntil} /> : 'open-ended'}
    </>
  );
}

export const regionLabel = (region: RegionRef) =>
  region.name && region.name !== region.code ? `${region.name} (${region.code})` : region.code;

/** Regions (or models) added and removed between two lists, by code. */
export function listChange(before: RegionRef[], after: RegionRef[]) {
  const beforeCodes = new Set(before.map((item) => item.code));
  const afterCodes = new Set(after.map((item) => item.code));
  return {
    added: after.filter((item) => !beforeCodes.has(item.code)),
    removed: before.filter((item) => !afterCodes.has(item.code)),
    kept: after.filter((item) => beforeCodes.has(item.code)),
  };
}

interface DiffRow {
  field: string;
  before: ReactNode;
  after: ReactNode;
  changed: boolean;
}

/**
 * Two versions side by side, field by field: what changed is marked in words (not only colour);
 * regions and models as lists added and removed; lock messages per locale.
 */
export function RulesDiff({
  before,
  after,
  beforeLabel,
  afterLabel,
}: {
  before: PolicyRules;
  after: PolicyRules;
  beforeLabel: string;
  afterLabel: string;
}) {
  const regions = listChange(before.regions, after.regions);
  const models = listChange(before.models, after.models);
  const modelsText = (rules: PolicyRules) =>
    rules.models.length ? rules.models.map((model) => model.code).join(', ') : 'every model';
  const rows: DiffRow[] = [
    { field: 'Title', before: before.title, after: after.title, changed: before.title !== after.title },
    { field: 'Mode', before: before.mode, after: after.mode, changed: before.mode !== after.mode },
    { field: 'Action', before: before.action, after: after.action, changed: before.action !== after.action },
    {
      field: 'Priority',
      before: before.priority,
      after: after.priority,
      changed: before.priority !== after.priority,
    },
    {
      field: 'Effective',
      before: effectiveWindow(before),
      after: effectiveWindow(after),
      changed: before.effectiveFrom !== after.effectiveFrom || before.effectiveUntil !== after.effectiveUntil,
    },
    {
      field: 'Model scope',
      before: modelsText(before),
      after: modelsText(after),
      changed: models.added.length + models.removed.length > 0,
    },
    {
      field: 'Regions',
      before: `${before.regions.length} regions`,
      after: `${after.regions.length} regions`,
      changed: regions.added.length + regions.removed.length > 0,
    },
    {
      field: 'Lock message (en)',
      before: before.lockMessage,
      after: after.lockMessage,
      changed: before.lockMessage !== after.lockMessage,
    },
  ];
  if (before.translations && after.translations) {
    const locales = [...new Set([...Object.keys(before.translations), ...Object.keys(after.translations)])].sort();
    for (const locale of locales) {
      const was = before.translations[locale];
      const is = after.translations[locale];
      rows.push({
        field: `Lock message (${locale})`,
        before: was === undefined ? <em>none</em> : <span lang={locale}>{was}</span>,
        after: is === undefined ? <em>none</em> : <span lang={locale}>{is}</span>,
        changed: was !== is,
      });
    }
  }
  const changedCount = rows.filter((row) => row.changed).length;
  return (
    <div className="rules-diff">
      <p className="summary">
        {changedCount === 0
          ? 'No difference in the rules.'
          : `${changedCount} ${changedCount === 1 ? 'field differs' : 'fields differ'}.`}
      </p>
      <div className="diff-lists">
        <ChangeList title="Regions added" items={regions.added} kind="added" />
        <ChangeList title="Regions removed" items={regions.removed} kind="removed" />
        {(models.added.length > 0 || models.removed.length > 0) && (
          <>
            <ChangeList title="Models added" items={models.added} kind="added" />
            <ChangeList title="Models removed" items={models.removed} kind="removed" />
          </>
        )}
      </div>
      {(before.regions.length > 0 || after.regions.length > 0) && (
        <RegionChangeMap change={regions} label={`Regions of ${beforeLabel} and ${afterLabel} on the map`} />
      )}
      <table className="diff" aria-label={`Differences between ${beforeLabel} and ${afterLabel}`}>
        <thead>
          <tr>
            <th scope="col">Field</th>
            <th scope="col">{beforeLabel}</th>
            <th scope="col">{afterLabel}</th>
            <th scope="col">Changed</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.field} className={row.changed ? 'changed' : undefined}>
              <th scope="row">{row.field}</th>
              <td className={row.changed ? 'removed' : undefined}>{row.before}</td>
              <td className={row.changed ? 'added' : undefined}>{row.after}</td>
              <td>{row.changed ? 'changed' : 'same'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

type Change = 'added' | 'removed' | 'kept';
// Added and removed in the diff lists' colours; a subdivision drawn as part of its country (the map
// has no shape of its own for it) in a lighter tone of the same colour, and named in the words.
const CHANGE_FILLS: Record<Change | 'mixed', { whole: string; part: string; label: string }> = {
  added: { whole: '#2e7d32', part: '#a5d6a7', label: 'added' },
  removed: { whole: '#c62828', part: '#ef9a9a', label: 'removed' },
  kept: { whole: '#5c6f86', part: '#b9c4d2', label: 'unchanged' },
  mixed: { whole: '#7b1fa2', part: '#ce93d8', label: 'some added, some removed' },
};

const countryNames = new Intl.DisplayNames('en', { type: 'region', fallback: 'code' });
/** "Ukraine (UA)" for a code the map draws; the name the API gave for a drawn subdivision. */
function drawnName(code: string, regions: RegionRef[]): string {
  const own = regions.find((region) => region.code === code);
  if (own) return regionLabel(own);
  try {
    return `${countryNames.of(code)} (${code})`;
  } catch {
    return code;
  }
}

/** The regions added, removed and kept on the world map, each described in words. */
export function RegionChangeMap({ change, label }: { change: ReturnType<typeof listChange>; label: string }) {
  const byDrawn = new Map<string, { region: RegionRef; change: Change }[]>();
  const note = (regions: RegionRef[], kind: Change) => {
    for (const region of regions) {
      const code = drawnCodeOf(region.code);
      byDrawn.set(code, [...(byDrawn.get(code) ?? []), { region, change: kind }]);
    }
  };
  note(change.added, 'added');
  note(change.removed, 'removed');
  note(change.kept, 'kept');
  const regions = new Map<string, MapRegion>();
  for (const [code, entries] of byDrawn) {
    const kinds = new Set(entries.map((entry) => entry.change));
    const kind =
      kinds.has('added') && kinds.has('removed')
        ? 'mixed'
        : kinds.has('added')
          ? 'added'
          : kinds.has('removed')
            ? 'removed'
            : 'kept';
    const whole = entries.some((entry) => entry.region.code === code);
    const name = drawnName(
      code,
      entries.map((entry) => entry.region),
    );
    const parts = entries
      .filter((entry) => entry.region.code !== code)
      .map((entry) => `${regionLabel(entry.region)} ${CHANGE_FILLS[entry.change].label}`);
    const description = whole
      ? `${name}: ${CHANGE_FILLS[entries.find((entry) => entry.region.code === code)!.change].label}${parts.length ? `; ${parts.join('; ')}` : ''}`
      : `${name}, part of it: ${parts.join('; ')}`;
    regions.set(code, { description, fill: whole ? CHANGE_FILLS[kind].whole : CHANGE_FILLS[kind].part });
  }
  const shown = new Set([...regions.values()].map((region) => region.fill));
  const legend = (Object.keys(CHANGE_FILLS) as (Change | 'mixed')[]).flatMap((kind) => [
    { colour: CHANGE_FILLS[kind].whole, label: CHANGE_FILLS[kind].label },
    { colour: CHANGE_FILLS[kind].part, label: `${CHANGE_FILLS[kind].label} (part of the country)` },
  ]);
  return (
    <WorldMap
      label={label}
      regions={regions}
      hint="Hover over a region to read what changed there."
      legend={<Legend steps={legend.filter((step) => shown.has(step.colour))} />}
    />
  );
}

function ChangeList({ title, items, kind }: { title: string; items: RegionRef[]; kind: 'added' | 'removed' }) {
  return (
    <section className={`change-list ${kind}`} aria-label={title}>
      <h4>
        {title} ({items.length})
      </h4>
      {items.length ? (
        <ul>
          {items.map((item) => (
            <li key={item.code}>
              {kind === 'added' ? '+ ' : '− '}
              {regionLabel(item)}
            </li>
          ))}
        </ul>
      ) : (
        <p className="hint">none</p>
      )}
    </section>
  );
}

/** An ISO instant as a datetime-local input's value, in the browser's zone. */
export function toLocalInput(iso: string | null | undefined): string {
  if (!iso) return '';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  const local = new Date(date.getTime() - date.getTimezoneOffset() * 60_000);
  return local.toISOString().slice(0, 16);
}

/** A datetime-local input's value (the browser's zone) as an ISO instant; null when empty or invalid. */
export function fromLocalInput(value: string): string | null {
  if (!value) return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}
