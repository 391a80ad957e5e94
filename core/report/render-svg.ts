/**
 * Vega-Lite specs rendered to SVG in Node, headlessly (vega's `renderer: 'none'` view needs no
 * browser or canvas). vega is loaded lazily: only `kernelflow report` pays for it.
 */
export type VegaLiteSpec = Record<string, unknown>;

export async function renderSvg(spec: VegaLiteSpec): Promise<string> {
  const [vega, vegaLite] = await Promise.all([import('vega'), import('vega-lite')]);
  const view = new vega.View(vega.parse(vegaLite.compile(spec as never).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
