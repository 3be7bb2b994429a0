import { pino } from 'pino'

export type Logger = pino.Logger

/** JSON logs on stderr (stdout belongs to CLI output); `silent` in tests unless LOG_LEVEL says otherwise. */
export function createLogger(level: string, name = 'pingscope'): Logger {
  return pino({ name, level }, pino.destination(2))
}
