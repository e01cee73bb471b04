import { DIRECTIONS, FLAG, FRAME_KINDS } from '../tape/format.js';
import { TOOL_VERSION } from '../tape/paths.js';
import { REPORT_SCHEMA, ReportData } from './data.js';
import { PAGE_SCRIPT } from './page-script.js';
import { PAGE_STYLE } from './page-style.js';

export type ReportParts = Omit<ReportData, 'schema' | 'generatedBy' | 'names'>;

/** The report's data with what every page carries: schema, producer, and the names its columns number. */
export function reportData(parts: ReportParts): ReportData {
  // Flag names by bit position, as the page tests them (`flags & 1 << i`).
  const flags = Object.entries(FLAG).sort((a, b) => a[1] - b[1]).map(([k]) => k);
  return ReportData.parse({ schema: REPORT_SCHEMA, generatedBy: `arcp ${TOOL_VERSION}`, names: { kinds: [...FRAME_KINDS], dirs: [...DIRECTIONS], flags }, ...parts });
}

const escapeHtml = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/**
 * One self-contained HTML file: the CSS and script inline, the data as one JSON script tag (a
 * `<` inside it escaped, so no frame's text can close the tag), nothing fetched. A page
 * without a tape view (a conformance run, a fork family) leaves its tape panels out.
 */
export function reportHtml(data: ReportData): string {
  const json = JSON.stringify(data).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
  const tapePanels = data.tape
    ? `<main>
<section id="timeline-box"><h2>Timeline <span class="note">(one lane per channel; drag to pan, ctrl+wheel to zoom; blue client → runtime, green runtime → client, orange SSE chunks)</span></h2>
<div class="tl-bar"><button id="zoom-in">zoom in</button><button id="zoom-out">zoom out</button><button id="zoom-reset">whole tape</button><span id="limits" class="note"></span></div>
<div id="timeline"><div id="tl-inner"><div id="tl-labels"></div><canvas id="tl-canvas"></canvas></div></div></section>
<section><h2>Jobs, their LLM calls and records</h2><div id="jobs"></div></section>
<section><h2>Frames <span id="match-count" class="note"></span></h2><input id="search" type="search" placeholder="search frames (text, type, #seq, lane)"><div id="frames" class="list"><div id="frames-spacer"></div></div></section>
<section><h2>Frame</h2><div id="detail"><div class="note">click a frame (in the list, on the timeline, or an evidence link) to see its bytes</div></div></section>
</main>`
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>${escapeHtml(data.title)}</title><style>${PAGE_STYLE}</style></head>
<body><header><h1>${escapeHtml(data.title)}</h1><div class="meta"><span id="facts"></span> · ${escapeHtml(data.generatedBy)}</div></header>
<div id="extra"></div>
${tapePanels}
<script type="application/json" id="arcp-data">${json}</script>
<script>${PAGE_SCRIPT}</script>
</body></html>
`;
}
