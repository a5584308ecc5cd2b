import type { UserErrorLike } from '../ui';

/** The input field a user error names: its path's first element after `input` (an array's index follows it). */
export function fieldOf(error: UserErrorLike): string {
  return (error.field[0] === 'input' ? error.field[1] : error.field[0]) ?? '';
}

/** The messages for one input field, each with the array position it names, if any ("2nd: unknown region code"). */
export function fieldErrors(userErrors: readonly UserErrorLike[], field: string): string[] {
  return userErrors
    .filter((error) => fieldOf(error) === field)
    .map((error) => {
      const rest = error.field.slice(error.field[0] === 'input' ? 2 : 1);
      return rest.length && /^\d+$/.test(rest[0]!) ? `#${Number(rest[0]) + 1}: ${error.message}` : error.message;
    });
}

/** User errors that name none of the form's fields, with their code. */
export function otherErrors(userErrors: readonly UserErrorLike[], fields: string[]): string[] {
  return userErrors
    .filter((error) => !fields.includes(fieldOf(error)))
    .map((error) => `${error.message} (${error.code})`);
}
