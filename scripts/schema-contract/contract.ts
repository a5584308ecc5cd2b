/**
 * The schema contract partners integrate against.
 *
 * Terminology:
 * - release: a version of the API partners were given, kept as `schema/releases/<YYYY-MM-DD>.graphql`
 *   (the file is never edited after it is committed; the newest name is the current release).
 * - emitted schema: what the code serves now (`printAppSchema`, also committed as schema/schema.graphql).
 * - breaking change: one that can make a partner's valid operation fail (a field, argument, enum value or
 *   type removed, a type changed, an argument or input field made required), as GraphQL Inspector judges.
 * - dangerous change: one that cannot fail an operation but that a partner's code may not handle (a new
 *   enum value, a changed default).
 * - announced removal: an element deprecated in the current release with a reason that names its
 *   removal date (`… Removal on or after 2027-03-01.`). Removing it from the emitted schema is allowed
 *   from that date on: partners had a whole release to see the deprecation.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Change, CriticalityLevel, diff } from '@graphql-inspector/core';
import {
  GraphQLArgument,
  GraphQLEnumValue,
  GraphQLField,
  GraphQLInputField,
  GraphQLNamedType,
  GraphQLSchema,
  buildSchema,
  getNamedType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isObjectType,
} from 'graphql';

export const RELEASE_NAME = /^(\d{4}-\d{2}-\d{2})\.graphql$/;
/** How a deprecation reason states its removal date; the check reads it, partners read it too. */
export const REMOVAL_DATE = /Removal on or after (\d{4}-\d{2}-\d{2})\b/;

export interface Release {
  version: string;
  file: string;
  sdl: string;
}

/** The released schemas, oldest first. */
export function readReleases(directory: string): Release[] {
  return readdirSync(directory)
    .filter((name) => RELEASE_NAME.test(name))
    .sort()
    .map((name) => ({
      version: RELEASE_NAME.exec(name)![1],
      file: join(directory, name),
      sdl: readFileSync(join(directory, name), 'utf8'),
    }));
}

type Deprecatable = GraphQLField<unknown, unknown> | GraphQLArgument | GraphQLInputField | GraphQLEnumValue;

/** The field, argument, input field or enum value a change path (`Type.field.argument`, `Enum.VALUE`) names. */
function elementAt(schema: GraphQLSchema, path: string): Deprecatable | undefined {
  const [typeName, memberName, argumentName] = path.split('.');
  const type = schema.getType(typeName);
  if (!type || memberName === undefined) return undefined;
  if (isEnumType(type)) return type.getValue(memberName) ?? undefined;
  if (isObjectType(type) || isInterfaceType(type) || isInputObjectType(type)) {
    const field = type.getFields()[memberName];
    if (!field || argumentName === undefined) return field;
    return 'args' in field ? field.args.find((argument) => argument.name === argumentName) : undefined;
  }
  return undefined;
}

/** Why an element of the release may not go yet, or null when its removal was announced and is due. */
function removalProblem(element: Deprecatable | undefined, release: string, today: string): string | null {
  if (!element?.deprecationReason)
    return `it was not deprecated in release ${release}: deprecate it with a reason and "Removal on or after YYYY-MM-DD", release that, then remove it from that date`;
  const removal = REMOVAL_DATE.exec(element.deprecationReason)?.[1];
  if (!removal) return `its deprecation in release ${release} names no removal date ("Removal on or after YYYY-MM-DD")`;
  if (removal > today) return `its removal was announced for ${removal} or later; today is ${today}`;
  return null;
}

/** Elements of a schema whose type is `typeName`: a type may go only with every element that uses it. */
function usesOf(schema: GraphQLSchema, typeName: string): { path: string; element: Deprecatable | undefined }[] {
  const uses: { path: string; element: Deprecatable | undefined }[] = [];
  for (const type of Object.values(schema.getTypeMap()) as GraphQLNamedType[]) {
    if (type.name.startsWith('__')) continue;
    if (isObjectType(type) || isInterfaceType(type)) {
      if (type.getInterfaces().some((entry) => entry.name === typeName))
        uses.push({ path: type.name, element: undefined });
      for (const field of Object.values(type.getFields())) {
        if (getNamedType(field.type).name === typeName)
          uses.push({ path: `${type.name}.${field.name}`, element: field });
        for (const argument of field.args)
          if (getNamedType(argument.type).name === typeName)
            uses.push({ path: `${type.name}.${field.name}.${argument.name}`, element: argument });
      }
    } else if (isInputObjectType(type)) {
      for (const field of Object.values(type.getFields()))
        if (getNamedType(field.type).name === typeName)
          uses.push({ path: `${type.name}.${field.name}`, element: field });
    } else if ('getTypes' in type && type.getTypes().some((member) => member.name === typeName)) {
      uses.push({ path: type.name, element: undefined });
    }
  }
  return uses;
}

export interface JudgedChange {
  change: Change;
  /** For a breaking change: why it is not allowed; null when it is an announced removal that is due. */
  problem: string | null;
}

export interface ContractReport {
  release: string;
  /** Breaking changes that fail the check. */
  breaking: JudgedChange[];
  /** Breaking changes allowed because they remove what the release announced. */
  announcedRemovals: JudgedChange[];
  dangerous: Change[];
  safe: Change[];
  /** Deprecations in the emitted schema without a reason naming a removal date. */
  undatedDeprecations: string[];
}

/** Deprecated elements of the emitted schema whose reason gives no removal date. */
function findUndatedDeprecations(schema: GraphQLSchema): string[] {
  const found: string[] = [];
  const check = (path: string, element: Deprecatable) => {
    if (element.deprecationReason != null && !REMOVAL_DATE.test(element.deprecationReason)) found.push(path);
  };
  for (const type of Object.values(schema.getTypeMap()) as GraphQLNamedType[]) {
    if (type.name.startsWith('__')) continue;
    if (isEnumType(type)) for (const value of type.getValues()) check(`${type.name}.${value.name}`, value);
    if (isObjectType(type) || isInterfaceType(type) || isInputObjectType(type))
      for (const field of Object.values(type.getFields())) {
        check(`${type.name}.${field.name}`, field);
        for (const argument of 'args' in field ? field.args : [])
          check(`${type.name}.${field.name}.${argument.name}`, argument);
      }
  }
  return found;
}

/**
 * Compares the emitted schema with a release. `today` (YYYY-MM-DD) decides whether an announced
 * removal is due; it is a parameter so that tests do not depend on the calendar.
 */
export async function compareWithRelease(
  release: Release,
  emittedSdl: string,
  today = new Date().toISOString().slice(0, 10),
): Promise<ContractReport> {
  const released = buildSchema(release.sdl);
  const emitted = buildSchema(emittedSdl);
  // A deprecation shows as two changes (the reason and the @deprecated usage): the usage is noise here.
  const changes = (await diff(released, emitted)).filter(
    (change) => !(change.type.startsWith('DIRECTIVE_USAGE_') && change.path?.endsWith('.@deprecated')),
  );
  const report: ContractReport = {
    release: release.version,
    breaking: [],
    announcedRemovals: [],
    dangerous: [],
    safe: [],
    undatedDeprecations: findUndatedDeprecations(emitted),
  };
  for (const change of changes) {
    if (change.criticality.level === CriticalityLevel.Dangerous) report.dangerous.push(change);
    else if (change.criticality.level === CriticalityLevel.NonBreaking) report.safe.push(change);
    else {
      const problem = breakingProblem(change, released, emitted, release.version, today);
      (problem === null ? report.announcedRemovals : report.breaking).push({ change, problem });
    }
  }
  return report;
}

const REMOVALS = new Set(['FIELD_REMOVED', 'INPUT_FIELD_REMOVED', 'ENUM_VALUE_REMOVED', 'FIELD_ARGUMENT_REMOVED']);

function breakingProblem(
  change: Change,
  released: GraphQLSchema,
  emitted: GraphQLSchema,
  release: string,
  today: string,
): string | null {
  if (REMOVALS.has(change.type) && change.path) return removalProblem(elementAt(released, change.path), release, today);
  if (change.type === 'TYPE_REMOVED' && change.path) {
    // A type goes with the last elements that used it; each of those must be a due, announced removal.
    const blocking = usesOf(released, change.path).find(
      (use) => elementAt(emitted, use.path) !== undefined || removalProblem(use.element, release, today) !== null,
    );
    return blocking ? `it is still used by ${blocking.path}, which may not go yet` : null;
  }
  return 'a changed element cannot be announced: add a new field, argument or type beside it and deprecate the old one';
}

const line = (change: Change) => `${change.message} (${change.path ?? change.type})`;

/** The check's output, for people: what fails and what to do, then what partners should hear of. */
export function formatReport(report: ContractReport): string {
  const lines = [`schema contract: the emitted schema against release ${report.release}`];
  if (report.breaking.length) {
    lines.push(`breaking changes (${report.breaking.length}) — not allowed:`);
    for (const { change, problem } of report.breaking) lines.push(`  ✗ ${line(change)}`, `      ${problem}`);
  }
  if (report.undatedDeprecations.length) {
    lines.push(`deprecations without a removal date (${report.undatedDeprecations.length}) — not allowed:`);
    for (const path of report.undatedDeprecations)
      lines.push(`  ✗ ${path}: end its reason with "Removal on or after YYYY-MM-DD."`);
  }
  if (report.announcedRemovals.length) {
    lines.push(`announced removals (${report.announcedRemovals.length}):`);
    for (const { change } of report.announcedRemovals) lines.push(`  - ${line(change)}`);
  }
  if (report.dangerous.length) {
    lines.push(`dangerous changes (${report.dangerous.length}) — allowed, tell partners:`);
    for (const change of report.dangerous) lines.push(`  ! ${line(change)}`);
  }
  lines.push(`safe changes: ${report.safe.length}`);
  lines.push(contractHolds(report) ? 'the contract holds' : 'the contract is broken');
  return lines.join('\n');
}

export function contractHolds(report: ContractReport): boolean {
  return report.breaking.length === 0 && report.undatedDeprecations.length === 0;
}

/** A CHANGELOG section for a new release, from the comparison with the one before it. */
export function changelogSection(version: string, report: ContractReport | null): string {
  const lines = [`## ${version}`, ''];
  if (!report) {
    lines.push('The first released contract.', '');
    return lines.join('\n');
  }
  const list = (title: string, changes: Change[]) => {
    if (!changes.length) return;
    lines.push(`### ${title}`, '', ...changes.map((change) => `- ${change.message.replace(/'([^']+)'/g, '`$1`')}`), '');
  };
  list(
    'Removed (announced earlier)',
    [...report.announcedRemovals, ...report.breaking].map((judged) => judged.change),
  );
  list('Needs attention', report.dangerous);
  list('Added and changed', report.safe);
  if (lines.length === 2) lines.push('No change to the schema.', '');
  return lines.join('\n');
}
