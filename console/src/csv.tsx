// A figure's CSV: the server's report route (/reports/*.csv) with the same filter as the figure on
// screen. The key travels as the Authorization header, never in a URL, so a plain link cannot carry
// it: the file is fetched and handed to the browser as a download from memory.
import { useState } from 'react';
import { storedKey } from './session';

export type CsvReport = 'activation-stats' | 'locked-devices' | 'review-queue' | 'activation-attempts';

/** The report's path with its query string (lists comma-separated, empty values left out). */
export function csvPath(report: CsvReport, params: Record<string, string | readonly string[] | null | undefined>) {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    const text = Array.isArray(value) ? value.join(',') : (value as string | null | undefined);
    if (text) query.set(name, text);
  }
  return `/reports/${report}.csv?${query.toString()}`;
}

export function CsvDownload({ href, filename, label }: { href: string; filename: string; label: string }) {
  const [state, setState] = useState<{ busy: boolean; error: string | null }>({ busy: false, error: null });
  const download = async () => {
    setState({ busy: true, error: null });
    try {
      const response = await fetch(href, { headers: { authorization: `Bearer ${storedKey() ?? ''}` } });
      if (!response.ok) {
        const body = (await response.json().catch(() => null)) as { errors?: { message: string }[] } | null;
        throw new Error(body?.errors?.[0]?.message ?? `HTTP ${response.status}`);
      }
      const url = URL.createObjectURL(await response.blob());
      const anchor = document.createElement('a');
      anchor.href = url;
      anchor.download = filename;
      anchor.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      setState({ busy: false, error: null });
    } catch (error) {
      setState({ busy: false, error: (error as Error).message });
    }
  };
  return (
    <span className="csv">
      <a
        href={href}
        download={filename}
        onClick={(event) => {
          event.preventDefault();
          if (!state.busy) void download();
        }}
      >
        {label} (CSV)
      </a>
      {state.error && (
        <span role="alert" className="field-error">
          {' '}
          The CSV could not be made: {state.error}
        </span>
      )}
    </span>
  );
}
