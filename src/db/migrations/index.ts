import { InitialSchema1764100000000 } from './1764100000000-InitialSchema';
import { DecisionEvidenceAndReviews1764200000000 } from './1764200000000-DecisionEvidenceAndReviews';
import { ApiKeysAndPrivacy1764300000000 } from './1764300000000-ApiKeysAndPrivacy';
import { ReportIndex1764400000000 } from './1764400000000-ReportIndex';
import { PolicyApprovals1764500000000 } from './1764500000000-PolicyApprovals';
import { SweepsAndStatusHistory1764600000000 } from './1764600000000-SweepsAndStatusHistory';
import { PartnerWebhooks1764700000000 } from './1764700000000-PartnerWebhooks';
import { ActivationRollup1764800000000 } from './1764800000000-ActivationRollup';
import { DailyCounts1764900000000 } from './1764900000000-DailyCounts';
import { IdempotencyFingerprint1765000000000 } from './1765000000000-IdempotencyFingerprint';
import { AuditRelatedTarget1765100000000 } from './1765100000000-AuditRelatedTarget';
import { ExemptionMilliseconds1765110000000 } from './1765110000000-ExemptionMilliseconds';
import { FixEvidence1765400000000 } from './1765400000000-FixEvidence';
import { PersistedOperations1765500000000 } from './1765500000000-PersistedOperations';
import { DeviceActionNames1765610000000 } from './1765610000000-DeviceActionNames';
import { DeviceLockCause1765610000001 } from './1765610000001-DeviceLockCause';
import { PublicExemptionReasonCodes1765630000000 } from './1765630000000-PublicExemptionReasonCodes';
import { PolicyLatestVersion1765620000000 } from './1765620000000-PolicyLatestVersion';
import { PartitionedAttempts1765640000000 } from './1765640000000-PartitionedAttempts';
import { AttemptReferenceInstants1765770000000 } from './1765770000000-AttemptReferenceInstants';
import { PolicyImpactRollup1765750000000 } from './1765750000000-PolicyImpactRollup';
import { LockRegionAndOpenReviews1765750000001 } from './1765750000001-LockRegionAndOpenReviews';
import { LeanerPresenceCounts1765820000000 } from './1765820000000-LeanerPresenceCounts';
import { AttemptReferenceChecks1765830000000 } from './1765830000000-AttemptReferenceChecks';
import { LeanerAttemptCounting1765840000000 } from './1765840000000-LeanerAttemptCounting';
import { DayChainsByProbe1765840000001 } from './1765840000001-DayChainsByProbe';
import { PartialAuditKeyIndexes1765850000000 } from './1765850000000-PartialAuditKeyIndexes';

/** Every migration, in order. New ones are appended; committed ones are never edited. */
export const migrations = [
  InitialSchema1764100000000,
  DecisionEvidenceAndReviews1764200000000,
  ApiKeysAndPrivacy1764300000000,
  ReportIndex1764400000000,
  PolicyApprovals1764500000000,
  SweepsAndStatusHistory1764600000000,
  PartnerWebhooks1764700000000,
  ActivationRollup1764800000000,
  DailyCounts1764900000000,
  IdempotencyFingerprint1765000000000,
  AuditRelatedTarget1765100000000,
  ExemptionMilliseconds1765110000000,
  FixEvidence1765400000000,
  PersistedOperations1765500000000,
  DeviceActionNames1765610000000,
  DeviceLockCause1765610000001,
  PolicyLatestVersion1765620000000,
  PublicExemptionReasonCodes1765630000000,
  PartitionedAttempts1765640000000,
  PolicyImpactRollup1765750000000,
  LockRegionAndOpenReviews1765750000001,
  AttemptReferenceInstants1765770000000,
  LeanerPresenceCounts1765820000000,
  AttemptReferenceChecks1765830000000,
  LeanerAttemptCounting1765840000000,
  DayChainsByProbe1765840000001,
  PartialAuditKeyIndexes1765850000000,
];
