import {
  SortDirection,
  SortSpec,
  decodeCursor,
  encodeCursor,
  paginateArray,
  resolvePageWindow,
} from '../../src/common/connection';
import { decodeGlobalId, encodeGlobalId, rowIdOf } from '../../src/common/global-id';

interface Row {
  id: number;
  name: string;
}

const rows: Row[] = ['delta', 'alpha', 'charlie', 'bravo', 'alpha', 'echo'].map((name, index) => ({
  id: index + 1,
  name,
}));
const byName: SortSpec<Row> = { property: 'name', direction: SortDirection.ASC, valueOf: (row) => row.name };
const ordered = ['alpha#2', 'alpha#5', 'bravo#4', 'charlie#3', 'delta#1', 'echo#6'];
const label = (row: Row) => `${row.name}#${row.id}`;

describe('cursors', () => {
  it('round-trip strings, numbers and instants', () => {
    const instant = new Date('2026-03-29T01:30:00.123Z');
    expect(decodeCursor('after', encodeCursor('UA-43', 7))).toEqual({ value: 'UA-43', id: 7 });
    expect(decodeCursor('after', encodeCursor(42, 1))).toEqual({ value: 42, id: 1 });
    expect(decodeCursor('after', encodeCursor(instant, 3))).toEqual({ value: instant, id: 3 });
  });

  it.each(['', 'not-base64!', Buffer.from('[1]').toString('base64url'), Buffer.from('{"a":1}').toString('base64url')])(
    'rejects %p naming the argument',
    (cursor) => {
      expect(() => decodeCursor('before', cursor)).toThrow(/^before: /);
    },
  );
});

describe('page windows', () => {
  it('defaults to the first 20', () => {
    expect(resolvePageWindow({}, 100)).toEqual({ limit: 20, backward: false, after: undefined, before: undefined });
  });

  it.each([
    [{ first: 0 }, /^first: must be from 1 to 100; got 0/],
    [{ first: 101 }, /^first: must be from 1 to 100; got 101/],
    [{ last: -1 }, /^last: must be from 1 to 100/],
    [{ first: 1, last: 1 }, /^last: cannot be combined with first/],
    [{ after: 'garbage' }, /^after: is not a cursor/],
  ])('rejects %p', (args, message) => {
    expect(() => resolvePageWindow(args, 100)).toThrow(message);
  });

  it('accepts the maximum exactly', () => {
    expect(resolvePageWindow({ first: 100 }, 100).limit).toBe(100);
  });
});

describe('paginateArray', () => {
  it('walks forward and backward through the whole list, ties broken by id', async () => {
    const forward: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = paginateArray(rows, byName, resolvePageWindow({ first: 4, after }, 100));
      forward.push(...page.nodes.map(label));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor!;
    }
    expect(forward).toEqual(ordered);

    const backward: string[] = [];
    let before: string | undefined;
    for (;;) {
      const page = paginateArray(rows, byName, resolvePageWindow({ last: 4, before }, 100));
      backward.unshift(...page.nodes.map(label));
      if (!page.pageInfo.hasPreviousPage) break;
      before = page.pageInfo.startCursor!;
    }
    expect(backward).toEqual(ordered);
  });

  it('reports page info and totals', async () => {
    const page = paginateArray(rows, byName, resolvePageWindow({ first: 2 }, 100));
    expect(page.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    expect(await page.totalCount).toBe(6);
    const empty = paginateArray([], byName, resolvePageWindow({ first: 2 }, 100));
    expect(empty.pageInfo).toEqual({ hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null });
  });

  it('orders descending', () => {
    const page = paginateArray(
      rows,
      { ...byName, direction: SortDirection.DESC },
      resolvePageWindow({ first: 3 }, 100),
    );
    expect(page.nodes.map(label)).toEqual(['echo#6', 'delta#1', 'charlie#3']);
  });
});

describe('global IDs', () => {
  it('round-trip and reject what the server never issued', () => {
    const id = encodeGlobalId('Device', 12);
    expect(decodeGlobalId(id)).toEqual({ typeName: 'Device', rowId: 12 });
    expect(rowIdOf(id, 'Device')).toBe(12);
    expect(rowIdOf(id, 'Partner')).toBeNull();
    for (const bad of [
      '',
      '12',
      Buffer.from('Device:0').toString('base64url'),
      Buffer.from('Device:-1').toString('base64url'),
      Buffer.from('Device:1;drop').toString('base64url'),
    ]) {
      expect(decodeGlobalId(bad)).toBeNull();
    }
  });
});
