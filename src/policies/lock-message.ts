import { PolicyVersion } from './policy-version.entity';

/** The message for `locale`: the exact tag, then its language (`pt-BR` → `pt`), then English. */
export function lockMessageFor(version: PolicyVersion, locale?: string | null): string {
  if (!locale) return version.lockMessage;
  const translations = version.lockMessageTranslations;
  const tag = locale.replace('_', '-');
  return translations[tag] ?? translations[tag.split('-')[0].toLowerCase()] ?? version.lockMessage;
}
