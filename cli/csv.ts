// A small RFC 4180 reader for `target import`: comma-separated, optional double quotes (with "" inside),
// CRLF or LF line ends, line breaks inside quotes. Each record keeps the line it starts on, for reports.

export interface CsvRecord {
  line: number
  fields: string[]
}

export interface CsvResult {
  records: CsvRecord[]
  /** An unterminated quote: everything from this line on is unreadable. */
  error: { line: number; message: string } | null
}

export function parseCsv(text: string): CsvResult {
  const records: CsvRecord[] = []
  const src = text.replace(/^\uFEFF/, '')
  let fields: string[] = []
  let field = ''
  let line = 1
  let start = 1
  let i = 0
  let quoted = false
  let quoteLine = 0
  const endRecord = () => {
    fields.push(field)
    // Blank lines are skipped.
    if (!(fields.length === 1 && fields[0] === '')) records.push({ line: start, fields })
    fields = []
    field = ''
  }
  while (i < src.length) {
    const ch = src[i]!
    if (quoted) {
      if (ch === '"') {
        if (src[i + 1] === '"') {
          field += '"'
          i += 2
          continue
        }
        quoted = false
      } else {
        if (ch === '\n') line++
        field += ch
      }
      i++
      continue
    }
    if (ch === '"' && field === '') {
      quoted = true
      quoteLine = line
    } else if (ch === ',') {
      fields.push(field)
      field = ''
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && src[i + 1] === '\n') i++
      endRecord()
      line++
      start = line
    } else field += ch
    i++
  }
  if (quoted) return { records, error: { line: quoteLine, message: 'unterminated quoted field' } }
  if (field !== '' || fields.length > 0) endRecord()
  return { records, error: null }
}
