/** Fields of one structured log line; never a token or other secret. */
export type LogFields = Record<string, string | number | boolean | null | undefined>;

export type LogLevel = 'info' | 'warn' | 'error';

/** Writes one event as one JSON line: `{"time","level","event",...fields}`. */
export type JsonLog = (event: string, fields?: LogFields, level?: LogLevel) => void;

/** A JSON-lines logger writing to `write` (default: standard error, where journald and docker collect it). */
export function jsonLog(write: (line: string) => void = (line) => process.stderr.write(line)): JsonLog {
  return (event, fields = {}, level = 'info') => {
    write(`${JSON.stringify({ time: new Date().toISOString(), level, event, ...fields })}\n`);
  };
}
