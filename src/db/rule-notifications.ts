import { EntityManager } from 'typeorm';

/** PostgreSQL channel on which a committed rule change tells every instance to rebuild its rules. */
export const RULES_CHANNEL = 'compliance_rules_changed';

/**
 * Inside the transaction of a rule change: on PostgreSQL the notification is delivered to every
 * instance when (and only if) the transaction commits. The local rules cache is told after the
 * commit, by the mutation runner (SQLite has no other instances).
 */
export async function announceRuleChange(manager: EntityManager): Promise<void> {
  if (manager.connection.options.type === 'postgres') await manager.query(`NOTIFY ${RULES_CHANNEL}`);
}
