import { EvidenceMap } from './evidence-map';
import { FragmentType, graphql, readFragment } from './gql';
import { Time } from './ui';

/** What a decision rests on: the signals, the region, the policies considered and the engine's words. */
export const AttemptEvidenceFragment = graphql(`
  fragment AttemptEvidence on ActivationAttempt {
    id
    occurredAt
    receivedAt
    outcome
    enforced
    reasonCodes
    regionSource
    reviewStatus
    reviewNote
    reviewedBy
    reviewedAt
    signalsPurgedAt
    resolvedRegion {
      code
      name
    }
    policyVersion {
      number
      policy {
        key
        title
      }
    }
    signals {
      gps @include(if: $withLocation) {
        latitude
        longitude
        accuracyMeters
      }
      sim {
        mcc
        mnc
      }
      ipCountry
    }
    explanation {
      signals {
        source
        regionCode
        usable
        finding
        detail
      }
      policies {
        policyKey
        applies
        finding
        detail
        policyVersion {
          number
        }
      }
    }
  }
`);

export function AttemptEvidence(props: { attempt: FragmentType<typeof AttemptEvidenceFragment> }) {
  const attempt = readFragment(AttemptEvidenceFragment, props.attempt);
  const gps = attempt.signals.gps;
  const simSignal = attempt.explanation?.signals.find((signal) => signal.source === 'SIM');
  return (
    <div className="evidence">
      <dl className="facts">
        <dt>Outcome</dt>
        <dd>
          {attempt.outcome}
          {attempt.enforced ? '' : ' (not enforced: MONITOR)'}
          {attempt.reviewStatus ? ` · review ${attempt.reviewStatus}` : ''}
        </dd>
        <dt>Activated</dt>
        <dd>
          <Time value={attempt.occurredAt} /> (received <Time value={attempt.receivedAt} />)
        </dd>
        <dt>Resolved region</dt>
        <dd>
          {attempt.resolvedRegion ? `${attempt.resolvedRegion.name} (${attempt.resolvedRegion.code})` : 'none'} · from{' '}
          {attempt.regionSource}
        </dd>
        <dt>SIM</dt>
        <dd>
          {attempt.signals.sim
            ? `MCC ${attempt.signals.sim.mcc}${attempt.signals.sim.mnc ? ` · MNC ${attempt.signals.sim.mnc}` : ''}`
            : 'no SIM'}
          {simSignal ? ` — ${simSignal.detail}${simSignal.regionCode ? ` (country ${simSignal.regionCode})` : ''}` : ''}
        </dd>
        <dt>IP country</dt>
        <dd>{attempt.signals.ipCountry ?? 'unknown'}</dd>
        <dt>Policy</dt>
        <dd>
          {attempt.policyVersion
            ? `${attempt.policyVersion.policy.title} (${attempt.policyVersion.policy.key} v${attempt.policyVersion.number})`
            : 'none applied'}
        </dd>
        <dt>Reason codes</dt>
        <dd>{attempt.reasonCodes.join(', ') || '—'}</dd>
        {attempt.reviewNote && (
          <>
            <dt>Review</dt>
            <dd>
              {attempt.reviewNote} — {attempt.reviewedBy}, <Time value={attempt.reviewedAt} />
            </dd>
          </>
        )}
      </dl>
      {gps ? (
        <EvidenceMap fix={gps} regionCode={attempt.resolvedRegion?.code ?? null} />
      ) : (
        <p className="map-missing">
          {attempt.signalsPurgedAt ? 'The raw signals were purged under the retention setting.' : 'No GPS fix to show.'}
        </p>
      )}
      {attempt.explanation ? (
        <>
          <h4>Signals</h4>
          <ul className="steps">
            {attempt.explanation.signals.map((signal, index) => (
              <li key={index}>
                <strong>{signal.source}</strong> {signal.usable ? 'used' : 'not used'}: {signal.detail}{' '}
                <code>{signal.finding}</code>
              </li>
            ))}
          </ul>
          <h4>Policies considered</h4>
          <ul className="steps">
            {attempt.explanation.policies.map((policy, index) => (
              <li key={index}>
                <strong>
                  {policy.policyKey} v{policy.policyVersion.number}
                </strong>{' '}
                {policy.applies ? 'applies' : 'does not apply'}: {policy.detail} <code>{policy.finding}</code>
              </li>
            ))}
          </ul>
        </>
      ) : (
        <p>No explanation was recorded with this attempt.</p>
      )}
    </div>
  );
}
