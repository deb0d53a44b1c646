/** How the agent says what it did: one event name and a few fields, at a level. */
export type SyncLog = (
  level: 'info' | 'warn' | 'error',
  event: string,
  fields?: Record<string, unknown>,
) => void;

/**
 * A log writing one JSON object per line (`{"time","level","event",...fields}`), what journald, Loki or
 * `jq` read without a parser of their own.
 */
export function jsonLines(write: (line: string) => void): SyncLog {
  return (level, event, fields = {}) => {
    write(`${JSON.stringify({ time: new Date().toISOString(), level, event, ...fields })}\n`);
  };
}
