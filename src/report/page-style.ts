/** The page's CSS, inline: a report opens from a file, offline, with nothing fetched. */
export const PAGE_STYLE = String.raw`
*{box-sizing:border-box}
body{margin:0;font:13px/1.4 system-ui,sans-serif;color:#1d232b;background:#f6f7f9}
header{padding:8px 14px;background:#1d232b;color:#f6f7f9}
header h1{font-size:15px;margin:0 0 2px}
header .meta{font-size:12px;opacity:.8}
main{display:grid;grid-template-columns:minmax(260px,1fr) minmax(320px,1.4fr) minmax(320px,1.4fr);gap:8px;padding:8px}
section{background:#fff;border:1px solid #d6dae0;border-radius:4px;min-width:0}
section h2{font-size:13px;margin:0;padding:6px 8px;border-bottom:1px solid #e3e6ea;background:#eef0f3}
#timeline-box{grid-column:1/-1}
#timeline{position:relative;height:min(42vh,420px);overflow-y:auto}
#tl-inner{position:relative}
#tl-labels{position:absolute;left:0;top:0;width:220px}
#tl-canvas{position:sticky;top:0;left:220px;display:block;margin-left:220px;cursor:crosshair}
.lane{position:absolute;left:0;width:220px;height:18px;padding:0 6px;font-size:11px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis;border-bottom:1px solid #f0f1f3}
.lane.ws{color:#1f5fa8}.lane.stdio{color:#6b3fa0}.lane.http{color:#b35c00}
.lane.http.nested{padding-left:22px}
.tl-bar{display:flex;gap:8px;align-items:center;padding:4px 8px;font-size:12px;border-bottom:1px solid #e3e6ea}
.list{position:relative;height:min(48vh,520px);overflow-y:auto}
.frow{position:absolute;left:0;right:0;height:20px;padding:0 6px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis;font:12px/20px ui-monospace,monospace;cursor:pointer}
.frow:hover{background:#eef3fb}.frow.sel{background:#d4e4fa}
.frow .d0{color:#1f5fa8}.frow .d1{color:#1d7a3a}.frow .d2{color:#777}
#search{width:100%;padding:5px 8px;border:0;border-bottom:1px solid #e3e6ea;font:inherit}
#detail{padding:8px;overflow:auto;height:min(52vh,560px)}
#detail pre,.pre{margin:6px 0;white-space:pre-wrap;word-break:break-all;font:12px/1.35 ui-monospace,monospace;background:#f7f8fa;padding:6px;border-radius:3px}
.note{color:#666;font-size:12px}
.bad{color:#b3261e}.ok{color:#1d7a3a}
#jobs{overflow-y:auto;height:min(52vh,560px);padding:4px 8px}
details.job{border-bottom:1px solid #eef0f3;padding:3px 0}
details.job summary{cursor:pointer}
.sub{margin:2px 0 2px 14px}
.sub h3{font-size:12px;margin:6px 0 2px;color:#555}
.link{color:#1f5fa8;cursor:pointer;text-decoration:underline dotted}
.rec{margin:3px 0;padding:3px 5px;border-left:3px solid #1d7a3a;background:#f7faf8}
.rec.error{border-left-color:#b3261e;background:#fcf6f6}
table{border-collapse:collapse;width:100%}
td,th{text-align:left;padding:3px 6px;border-bottom:1px solid #eef0f3;vertical-align:top}
.side{display:grid;grid-template-columns:1fr 1fr;gap:8px;padding:8px}
.diverged{outline:2px solid #b3261e}
`;
