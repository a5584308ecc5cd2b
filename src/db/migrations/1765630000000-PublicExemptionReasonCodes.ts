import { MigrationInterface, QueryRunner } from 'typeorm';
import { encodeGlobalId } from '../../common/global-id';

/** How many rows one statement reads; keyset pages, so a large table is read once. */
const PAGE = 1000;

/** An exemption code as decisions wrote it before reason codes named public identifiers. */
const ROW_NUMBER_CODE = /^EXEMPTION:([0-9]+)$/;

/**
 * Decisions made before reason codes named public identifiers say `EXEMPTION:<row number>`, which
 * no part of the API exposes. They are rewritten to what a decision says now: `EXEMPT_FROM:<policy
 * key>` followed by `EXEMPTION:<the exemption's global ID>`, wherever the codes were stored: the
 * attempt's `reasonCodes` and the status history's reason (the comma-joined codes of the decision
 * that activated the device). An exempted decision is an ALLOW, never a lock or a review, so
 * `device.lockReason` and partner events (locks and reviews only) hold none. A global ID is never all
 * digits, so rows already in the public form are left as they are, and running it twice changes
 * nothing.
 *
 * Down changes nothing: the code before this migration already writes the public form.
 */
export class PublicExemptionReasonCodes1765630000000 implements MigrationInterface {
  name = 'PublicExemptionReasonCodes1765630000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const postgres = queryRunner.connection.driver.options.type === 'postgres';
    const policyKeyOf = new Map<number, string>(
      (
        (await queryRunner.query(
          `SELECT e."id" AS "id", p."key" AS "key" FROM "exemption" e JOIN "policy" p ON p."id" = e."policyId"`,
        )) as { id: number | string; key: string }[]
      ).map((row) => [Number(row.id), row.key]),
    );
    const publicCodes = (codes: string[]): string[] | null => {
      if (!codes.some((code) => ROW_NUMBER_CODE.test(code))) return null;
      return codes.flatMap((code) => {
        const match = ROW_NUMBER_CODE.exec(code);
        if (!match) return [code];
        const id = Number(match[1]);
        const policyKey = policyKeyOf.get(id);
        const reference = `EXEMPTION:${encodeGlobalId('Exemption', id)}`;
        return policyKey === undefined ? [reference] : [`EXEMPT_FROM:${policyKey}`, reference];
      });
    };
    const commaJoined = (reason: string | null, width: number): string | null => {
      const codes = reason ? publicCodes(reason.split(',')) : null;
      return codes ? codes.join(',').slice(0, width) : null;
    };
    // Only rows holding a digit right after `EXEMPTION:` are read.
    const holdsRowNumber = (column: string, quoted: boolean) => {
      const prefix = quoted ? '"EXEMPTION:' : 'EXEMPTION:';
      return postgres ? `${column} ~ '${prefix}[0-9]'` : `${column} GLOB '*${prefix}[0-9]*'`;
    };

    await this.rewrite(queryRunner, postgres, 'activation_attempt', 'reasonCodes', holdsRowNumber('"reasonCodes"', true), (value) => {
      const codes = publicCodes(JSON.parse(value) as string[]);
      return codes ? JSON.stringify(codes) : null;
    });
    await this.rewrite(queryRunner, postgres, 'device_status_change', 'reason', holdsRowNumber('"reason"', false), (value) =>
      commaJoined(value, 1000),
    );
  }

  async down(): Promise<void> {
    // The public form is what the code before this migration writes too; there is nothing to restore.
  }

  /** Rewrites `column` of every row of `table` matching `where`; `change` returns null to leave a row. */
  private async rewrite(
    queryRunner: QueryRunner,
    postgres: boolean,
    table: string,
    column: string,
    where: string,
    change: (value: string) => string | null,
  ): Promise<void> {
    const parameter = (index: number) => (postgres ? `$${index}` : '?');
    let after = 0;
    for (;;) {
      const rows = (await queryRunner.query(
        `SELECT "id" AS "id", "${column}" AS "value" FROM "${table}" WHERE "id" > ${parameter(1)} AND ${where} ORDER BY "id" LIMIT ${PAGE}`,
        [after],
      )) as { id: number | string; value: string }[];
      for (const row of rows) {
        const changed = change(row.value);
        if (changed !== null)
          await queryRunner.query(`UPDATE "${table}" SET "${column}" = ${parameter(1)} WHERE "id" = ${parameter(2)}`, [
            changed,
            row.id,
          ]);
      }
      if (rows.length < PAGE) return;
      after = Number(rows[rows.length - 1].id);
    }
  }
}
