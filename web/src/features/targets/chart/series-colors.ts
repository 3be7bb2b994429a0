// Colours of charts with one line per target or per site (compare, the target page's site lines).

/**
 * One line per series, in order: Okabe & Ito's colour-blind-safe palette (black, for the dark theme,
 * becomes the theme's text colour); its yellow is last, being the faintest on white.
 */
export const SERIES_COLORS = ['#0072b2', '#e69f00', '#009e73', '#cc79a7', '#56b4e9', '#d55e00', 'text', '#f0e442'] as const

export const seriesColor = (i: number, text: string): string => {
  const c = SERIES_COLORS[i % SERIES_COLORS.length]!
  return c === 'text' ? text : c
}

/** The lines past the first four are dashed as well, so colour is not the only difference. */
export const seriesDash = (i: number): number[] | undefined => (i >= 4 ? [8, 4] : undefined)
