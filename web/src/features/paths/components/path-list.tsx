import { formatDateTime } from '../../../lib/format'
import type { PathSummary } from '../api/paths'
import { pathLetter } from '../path-model'

/** The distinct paths of the window, in the order first seen, named as the view's path row names them. */
export function PathList({ paths }: { paths: PathSummary[] }) {
  return (
    <div className="path-table-scroll">
      <table className="data-table path-list" aria-label="Distinct paths">
        <thead>
          <tr>
            <th scope="col">Path</th>
            <th scope="col">Hops</th>
            <th scope="col">Runs</th>
            <th scope="col">First seen</th>
            <th scope="col">Last seen</th>
          </tr>
        </thead>
        <tbody>
          {paths.map((p, i) => (
            <tr key={p.path_hash ?? `none-${i}`}>
              <td>
                <span className={`path-chip path-${i % 8}`}>{pathLetter(i)}</span>
              </td>
              <td className="mono path-hops">{p.hops.map((h) => h ?? '*').join(' → ')}</td>
              <td className="mono">{p.runs}</td>
              <td>{formatDateTime(p.first_seen)}</td>
              <td>{formatDateTime(p.last_seen)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  )
}
