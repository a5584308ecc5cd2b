import { statementShapes } from '../../src/db/prepared';

describe('statementShapes: the multi-row statements a number of rows is written in', () => {
  it('splits into powers of two, the largest that fits first, then the remainder by its binary digits', () => {
    expect(statementShapes(931, 3276)).toEqual([512, 256, 128, 32, 2, 1]);
    expect(statementShapes(5000, 3276)).toEqual([2048, 2048, 512, 256, 128, 8]);
    expect(statementShapes(1, 3276)).toEqual([1]);
    expect(statementShapes(0, 3276)).toEqual([]);
    // A maximum of one row a statement (a wide table): one row each.
    expect(statementShapes(3, 1)).toEqual([1, 1, 1]);
  });

  it('covers every count exactly, within the maximum, in a few shapes whatever the counts', () => {
    const seen = new Set<number>();
    const wrong: string[] = [];
    for (const max of [1, 3, 1000, 3276]) {
      for (let count = 0; count <= (max === 1 ? 50 : 5000); count += 1) {
        const shapes = statementShapes(count, max);
        if (shapes.reduce((sum, shape) => sum + shape, 0) !== count) wrong.push(`${count}/${max}: sum`);
        for (const shape of shapes) {
          if (shape > max || !Number.isInteger(Math.log2(shape))) wrong.push(`${count}/${max}: ${shape}`);
          if (max === 3276) seen.add(shape);
        }
      }
    }
    expect(wrong).toEqual([]);
    // 1, 2, 4, …, 2048: twelve SQL texts per table and set of columns, prepared once.
    expect([...seen].sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, power) => 2 ** power));
  });
});
