import { PostgresListener } from '../db/postgres-listener';
import { RULES_CHANNEL } from '../db/rule-notifications';
import { DataSource, In, IsNull, Not } from 'typeorm';
import { EvidenceSettings, readEvidenceSettings } from '../config';
import { windowsOf } from '../policies/policy-history';
import { Exemption } from '../exemptions/exemption.entity';
import { encodeGlobalId } from '../common/global-id';
import { DeviceModel } from '../device-models/device-model.entity';
import { Policy, PolicyStatus } from '../policies/policy.entity';
import { PolicyVersion, PolicyVersionDeviceModel, PolicyVersionRegion } from '../policies/policy-version.entity';
import { Region } from '../regions/region.entity';
import { DecisionEngine, EngineData } from './engine/engine';
import { RegionDirectory } from './engine/regions';
import { DEFAULT_MAX_GPS_ACCURACY_METERS } from './engine/signal-readers';
import { CompiledExemption, CompiledPolicy } from './engine/types';
import { loadStaticData } from './static-data';

/**
 * The compiled engine for one database, rebuilt lazily after a rule change (policy, version,
 * exemption or region). Decisions never read policies from the database themselves.
 */
/** The compiled engine with the lookups a decision needs, so the hot path reads no reference data. */
export interface CompiledRules {
  engine: DecisionEngine;
  /** What the engine was built from: a what-if simulation builds another with changed policies. */
  engineData: EngineData;
  regionIdByCode: ReadonlyMap<string, number>;
  modelCodeById: ReadonlyMap<number, string>;
}

/** While the PostgreSQL listener is down, compiled rules are trusted at most this long. */
const UNLISTENED_RULES_MAX_AGE_MS = 1_000;

/** The settings rules are compiled with. */
export interface EvaluatorOptions {
  maxGpsAccuracyMeters: number;
  /** STALE_FIX_MINUTES and IMPOSSIBLE_TRAVEL_KMH; their defaults when missing. */
  evidence?: EvidenceSettings;
}

export class Evaluator {
  private engine: Promise<CompiledRules> | null = null;
  private builtAt = 0;
  private listener: PostgresListener | null = null;
  /** Whether compiled rules are ready (for /readyz). */
  loaded = false;
  /** How many times the engine was compiled (for tests and metrics). */
  rebuilds = 0;

  constructor(
    private readonly dataSource: DataSource,
    private readonly options: EvaluatorOptions = {
      maxGpsAccuracyMeters: DEFAULT_MAX_GPS_ACCURACY_METERS,
      evidence: readEvidenceSettings({}),
    },
  ) {}

  get maxGpsAccuracyMeters(): number {
    return this.options.maxGpsAccuracyMeters;
  }

  /** Whether other instances' rule changes reach this one (always true on SQLite, which has no others). */
  get following(): boolean {
    return !this.listener?.started || this.listener.connected;
  }

  current(): Promise<CompiledRules> {
    // Without the listener another instance's change would go unnoticed: rebuild often instead.
    if (this.engine && !this.following && Date.now() - this.builtAt > UNLISTENED_RULES_MAX_AGE_MS) this.engine = null;
    if (!this.engine) {
      const building = this.compile();
      this.engine = building;
      this.builtAt = Date.now();
      building.then(
        () => (this.loaded = true),
        // A failed build is not cached: the next decision tries again.
        () => {
          if (this.engine === building) this.engine = null;
        },
      );
    }
    return this.engine;
  }

  /** Called after a rule change committed in this process. */
  invalidate(): void {
    this.engine = null;
  }

  /**
   * On PostgreSQL, rebuild when any instance commits a rule change (see db/rule-notifications.ts). A lost
   * listener (the database restarted) is reconnected with backoff; meanwhile rules are rebuilt at
   * most a second apart, so no change is missed for long.
   */
  async listen(): Promise<void> {
    const options = this.dataSource.options as { type: string; url?: string };
    if (options.type !== 'postgres' || this.listener) return;
    // Rebuilt on a change, on a lost connection and once connected (changes made while nobody listened).
    this.listener = new PostgresListener(options.url!, RULES_CHANNEL, {
      onNotification: () => this.invalidate(),
      onConnected: () => this.invalidate(),
      onLost: () => this.invalidate(),
    });
    await this.listener.start();
  }

  async close(): Promise<void> {
    await this.listener?.close();
  }

  /**
   * The rules of one database compiled for the engine. Live (no `asOf`): every approved version of
   * each ACTIVE policy, each bounded to the window in which it is in force, so a scheduled version
   * takes over by itself; exemptions not revoked. As of an instant: RETIRED policies too (up to their
   * retirement) and the exemptions that stood then — the rules an attempt at that instant met.
   */
  async compile(asOf?: Date): Promise<CompiledRules> {
    if (!asOf) this.rebuilds += 1;
    const { locator, networks } = loadStaticData();
    const regions = await this.dataSource
      .getRepository(Region)
      .find({ select: { id: true, code: true, parentId: true } });
    const codeById = new Map(regions.map((region) => [region.id, region.code]));
    // All policies: the applied ones are compiled, and exemptions of any policy need its key.
    const allPolicies = await this.dataSource.getRepository(Policy).find();
    const applied = new Set<PolicyStatus>(asOf ? [PolicyStatus.ACTIVE, PolicyStatus.RETIRED] : [PolicyStatus.ACTIVE]);
    const policies = allPolicies.filter((policy) => applied.has(policy.status));
    const policyKeyById = new Map(allPolicies.map((policy) => [policy.id, policy.key]));
    const allVersions = policies.length
      ? await this.dataSource.getRepository(PolicyVersion).findBy({
          policyId: In(policies.map((policy) => policy.id)),
          approvedAt: Not(IsNull()),
        })
      : [];
    const windows = policies.flatMap((policy) =>
      windowsOf(
        policy,
        allVersions.filter((version) => version.policyId === policy.id),
      ),
    );
    const versionIds = windows.map((window) => window.versionId);
    const versionById = new Map(allVersions.map((version) => [version.id, version]));
    const coverage = versionIds.length
      ? await this.dataSource.getRepository(PolicyVersionRegion).findBy({ policyVersionId: In(versionIds) })
      : [];
    const scope = versionIds.length
      ? await this.dataSource.getRepository(PolicyVersionDeviceModel).findBy({ policyVersionId: In(versionIds) })
      : [];
    const modelCodeById = new Map(
      (await this.dataSource.getRepository(DeviceModel).find({ select: { id: true, code: true } })).map((model) => [
        model.id,
        model.code,
      ]),
    );
    const compiled: CompiledPolicy[] = windows.map((window) => {
      const version = versionById.get(window.versionId)!;
      const models = scope
        .filter((row) => row.policyVersionId === version.id)
        .map((row) => modelCodeById.get(row.deviceModelId)!);
      return {
        versionId: version.id,
        policyKey: policyKeyById.get(version.policyId)!,
        versionNumber: version.number,
        action: version.action,
        mode: version.mode,
        priority: version.priority,
        effectiveFrom: window.from,
        effectiveUntil: window.until,
        regionCodes: new Set(
          coverage.filter((row) => row.policyVersionId === version.id).map((row) => codeById.get(row.regionId)!),
        ),
        modelCodes: models.length ? new Set(models) : null,
      };
    });
    const exemptions = asOf
      ? (await this.dataSource.getRepository(Exemption).find()).filter(
          (exemption) =>
            exemption.createdAt.getTime() <= asOf.getTime() &&
            (exemption.revokedAt === null || exemption.revokedAt.getTime() > asOf.getTime()),
        )
      : await this.dataSource.getRepository(Exemption).findBy({ revokedAt: IsNull() });
    const compiledExemptions: CompiledExemption[] = exemptions.map((exemption) => ({
      reference: encodeGlobalId('Exemption', exemption.id),
      policyKey: policyKeyById.get(exemption.policyId)!,
      deviceId: exemption.deviceId,
      partnerId: exemption.partnerId,
      expiresAt: exemption.expiresAt?.getTime() ?? null,
    }));
    const engineData: EngineData = {
      regions: new RegionDirectory(
        regions.map((region) => ({
          code: region.code,
          parentCode: region.parentId === null ? null : codeById.get(region.parentId)!,
        })),
      ),
      locator,
      networks,
      policies: compiled,
      exemptions: compiledExemptions,
      maxGpsAccuracyMeters: this.options.maxGpsAccuracyMeters,
      ...(this.options.evidence ?? readEvidenceSettings({})),
    };
    return {
      engine: new DecisionEngine(engineData),
      engineData,
      regionIdByCode: new Map(regions.map((region) => [region.code, region.id])),
      modelCodeById,
    };
  }
}
