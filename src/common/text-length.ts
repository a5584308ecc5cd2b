import { MaxLength, MinLength } from 'class-validator';
import { UserError, UserErrorCode, userError } from './errors';

/**
 * A text's length bounds, as two rules so that the user error says which was broken: too short is
 * INVALID (REQUIRED when nothing was given), too long is TOO_LONG. One message for both, naming the
 * field and the bounds.
 */
export function TextLength(min: number, max: number, message: string): PropertyDecorator {
  const longest = MaxLength(max, { message });
  if (min === 0) return longest;
  const shortest = MinLength(min, { message });
  return (target, property) => {
    shortest(target, property);
    longest(target, property);
  };
}

/**
 * The user error of a text checked by hand (after trimming, say), or null: the same codes and the
 * same message as `TextLength`.
 */
export function textLengthError(path: (string | number)[], text: string, min: number, max: number): UserError | null {
  if (text.length >= min && text.length <= max) return null;
  const name = String(path[path.length - 1]);
  return userError(
    path,
    text.length > max ? UserErrorCode.TOO_LONG : UserErrorCode.INVALID,
    `${name} must be ${min} to ${max} characters`,
  );
}
