// PostgreSQL array literals for bulk parameters (`unnest(${textArrayLiteral(xs)}::text[])`): one text
// parameter per array, with an explicit cast in the SQL, because postgres.js infers an array's type from
// its first element (R10 in the engine research) and the embedded engine caps bind parameters at 32,767.

export const intArrayLiteral = (xs: readonly (number | null)[]): string =>
  `{${xs.map((x) => (x === null ? 'NULL' : String(x))).join(',')}}`

export const textArrayLiteral = (xs: readonly (string | null)[]): string =>
  `{${xs.map((x) => (x === null ? 'NULL' : `"${x.replace(/["\\]/g, '\\$&')}"`)).join(',')}}`
