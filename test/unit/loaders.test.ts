import { orderByKeys } from '../../src/common/loaders';

describe('orderByKeys', () => {
  it('answers in key order with null for keys without a row', () => {
    const rows = [
      { id: 3, name: 'c' },
      { id: 1, name: 'a' },
    ];
    expect(orderByKeys([1, 2, 3, 1], rows, (row) => row.id)).toEqual([rows[1], null, rows[0], rows[1]]);
  });

  it('answers an empty batch with an empty list', () => {
    expect(orderByKeys([], [], (row: { id: number }) => row.id)).toEqual([]);
  });
});
