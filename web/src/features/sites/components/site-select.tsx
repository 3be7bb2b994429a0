/** Site names, each once, sorted: from the sites on record, the targets' own lists and the one asked for. */
export const siteNameList = (...lists: readonly (readonly string[])[]): string[] => [...new Set(lists.flat())].sort()

/** The Site picker of the fleet (a filter) and the target page (whose figures): '' stands for all sites. */
export function SiteSelect(props: { names: readonly string[]; value: string; onChange: (site: string) => void; allLabel: string; className?: string }) {
  return (
    <label className={props.className}>
      <span>Site</span>
      <select aria-label="Site" value={props.value} onChange={(e) => props.onChange(e.target.value)}>
        <option value="">{props.allLabel}</option>
        {props.names.map((n) => (
          <option key={n} value={n}>
            {n}
          </option>
        ))}
      </select>
    </label>
  )
}
