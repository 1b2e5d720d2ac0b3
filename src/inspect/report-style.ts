// The HTML report's stylesheet, inlined into the page (no network): a light theme, the graph as a vertical chain
// of collapsible blocks on the left, the selected node's details in a sticky panel on the right.

export const REPORT_CSS = String.raw`
:root {
  --bg: #f4f5f8; --card: #ffffff; --ink: #1c2030; --muted: #6b7185; --line: #e3e6ee; --soft: #eef0f6;
  --accent: #4f46e5; --mac: #6366f1; --time: #f59e0b; --zero: #10b981; --ent: #db2777;
  --conv: #4f46e5; --matmul: #7c3aed; --attn: #db2777; --norm: #0d9488; --act: #16a34a; --pool: #0284c7;
  --math: #64748b; --data: #9ca3af;
}
* { box-sizing: border-box; }
html, body { margin: 0; background: var(--bg); color: var(--ink);
  font: 13px/1.45 ui-sans-serif, system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
.mono, code { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, "DejaVu Sans Mono", monospace; font-size: 12px; }
header.top { display: flex; align-items: center; gap: 14px; padding: 14px 22px; background: #151826; color: #fff; }
header.top .brand { font-weight: 700; letter-spacing: .02em; font-size: 15px; white-space: nowrap; flex: none; }
header.top .ident { min-width: 0; flex: 1 1 0; }
header.top .model, header.top .file { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
header.top .arch { margin-left: 10px; font-size: 12px; font-weight: 500; color: #a5b4fc; }
header.top .brand b { color: #a5b4fc; }
header.top .model { font-size: 15px; font-weight: 600; }
header.top .file { color: #9aa3bf; font-size: 12px; }
header.top .chips { margin-left: auto; display: flex; gap: 8px; flex-wrap: wrap; justify-content: flex-end; flex: none; }
.chip { background: rgba(255,255,255,.08); border: 1px solid rgba(255,255,255,.14); border-radius: 999px; padding: 3px 10px; font-size: 12px; white-space: nowrap; }
.chip b { color: #c7d2fe; font-weight: 600; }
.overview { display: grid; grid-template-columns: minmax(300px, 360px) minmax(360px, 1fr) minmax(300px, 380px); gap: 14px; padding: 14px 22px 0; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 12px 14px; box-shadow: 0 1px 2px rgba(20,24,40,.04); }
.card h2 { margin: 0 0 8px; font-size: 12px; text-transform: uppercase; letter-spacing: .06em; color: var(--muted); font-weight: 600; }
.input-card { display: flex; gap: 12px; }
.input-card canvas { width: 112px; height: 112px; border-radius: 6px; flex: none; background: var(--soft); }
.preds { flex: 1; min-width: 0; }
.pred { margin: 0 0 5px; }
.pred .lbl { display: flex; justify-content: space-between; gap: 6px; font-size: 12px; }
.pred .lbl span:first-child { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.pred .bar { height: 5px; background: var(--soft); border-radius: 3px; overflow: hidden; }
.pred .bar i { display: block; height: 100%; background: var(--accent); border-radius: 3px; }
.profile svg { width: 100%; height: 150px; display: block; }
.profile .legend { display: flex; gap: 14px; font-size: 11px; color: var(--muted); margin-top: 4px; }
.legend i { display: inline-block; width: 9px; height: 9px; border-radius: 2px; margin-right: 4px; vertical-align: -1px; }
.passes .flow { font-size: 12px; margin-bottom: 6px; }
.passes .flow b { font-size: 15px; }
.passes table { width: 100%; border-collapse: collapse; font-size: 12px; }
.passes td { padding: 2px 0; border-bottom: 1px dashed var(--line); }
.passes td.n { text-align: right; font-variant-numeric: tabular-nums; color: var(--accent); font-weight: 600; }
.passes td.st { color: var(--muted); font-size: 11px; padding-left: 8px; }
main { display: grid; grid-template-columns: minmax(520px, 1fr) minmax(420px, 540px); gap: 14px; padding: 14px 22px 30px; align-items: start; }
.chain { padding: 10px 12px; }
.chain-head { display: grid; grid-template-columns: 1fr 150px 120px; gap: 10px; padding: 0 8px 6px 44px; color: var(--muted); font-size: 11px; text-transform: uppercase; letter-spacing: .05em; }
.chain-head .tools { text-transform: none; letter-spacing: 0; }
.chain-head button, .seg button { font: inherit; font-size: 11px; border: 1px solid var(--line); background: var(--card); border-radius: 6px; padding: 1px 7px; cursor: pointer; color: var(--muted); }
.group { position: relative; margin: 0 0 6px; border: 1px solid var(--line); border-radius: 8px; background: #fbfbfd; }
.group > .ghead { display: grid; grid-template-columns: 18px 1fr 150px 120px; gap: 10px; align-items: center; padding: 6px 8px; cursor: pointer; user-select: none; }
.group > .ghead .caret { color: var(--muted); transition: transform .15s; }
.group.collapsed > .ghead .caret { transform: rotate(-90deg); }
.group.collapsed > .gbody { display: none; }
.group > .ghead .gname { font-weight: 600; }
.group > .ghead .gname small { color: var(--muted); font-weight: 400; margin-left: 6px; }
.gbody { padding: 0 6px 6px 14px; }
.node { position: relative; display: grid; grid-template-columns: 22px 1fr 150px 120px; gap: 10px; align-items: center; padding: 4px 8px; border-radius: 6px; cursor: pointer; }
.node::before { content: ""; position: absolute; left: 18px; top: -3px; bottom: -3px; border-left: 2px solid var(--line); }
.node .dot { position: relative; width: 10px; height: 10px; border-radius: 50%; background: var(--data); margin-left: 5px; box-shadow: 0 0 0 3px #fbfbfd; }
.node:hover { background: var(--soft); }
.node.selected { background: #e9e8fd; outline: 1px solid #c7c4fb; }
.node .nm { min-width: 0; }
.node .nm .op { display: inline-block; font-size: 11px; font-weight: 600; padding: 0 6px; border-radius: 4px; color: #fff; margin-right: 6px; background: var(--data); }
.node .nm .name { color: var(--ink); }
.node .nm .shape { display: block; color: var(--muted); white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.node .nm .title { display: block; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.meter { font-size: 11px; color: var(--muted); font-variant-numeric: tabular-nums; }
.meter .track { height: 6px; background: var(--soft); border-radius: 3px; overflow: hidden; margin-top: 2px; }
.meter .track i { display: block; height: 100%; border-radius: 3px; min-width: 1px; }
.meter.mac i { background: var(--mac); }
.meter.time i { background: var(--time); }
.top-level { margin: 0 0 6px; }
.fam-conv { background: var(--conv) !important; } .fam-matmul { background: var(--matmul) !important; }
.fam-attn { background: var(--attn) !important; } .fam-norm { background: var(--norm) !important; }
.fam-act { background: var(--act) !important; } .fam-pool { background: var(--pool) !important; }
.fam-math { background: var(--math) !important; } .fam-data { background: var(--data) !important; }
#details { position: sticky; top: 14px; max-height: calc(100vh - 28px); overflow: auto; }
#details h3 { margin: 0; font-size: 15px; word-break: break-all; }
#details h3 .badge { display: inline-block; color: #fff; border-radius: 4px; padding: 0 7px; margin-right: 8px; font-size: 12px; vertical-align: 1px; }
#details .sub { color: var(--muted); font-size: 12px; margin: 2px 0 10px; word-break: break-all; }
.facts { display: grid; grid-template-columns: repeat(3, 1fr); gap: 6px; margin-bottom: 10px; }
.fact { background: var(--soft); border-radius: 7px; padding: 6px 8px; }
.fact .k { display: block; font-size: 10.5px; text-transform: uppercase; letter-spacing: .05em; color: var(--muted); }
.fact .v { font-size: 14px; font-weight: 600; font-variant-numeric: tabular-nums; word-break: break-all; }
.fact.wide { grid-column: span 3; }
.fact.zero .v { color: var(--zero); } .fact.ent .v { color: var(--ent); }
.section { margin-top: 12px; }
.section h4 { display: flex; align-items: center; justify-content: space-between; margin: 0 0 6px; font-size: 12px; text-transform: uppercase; letter-spacing: .05em; color: var(--muted); }
.section h4 small { text-transform: none; letter-spacing: 0; font-weight: 400; }
svg.histogram { width: 100%; height: 130px; display: block; background: #fafbfe; border: 1px solid var(--line); border-radius: 7px; }
svg.histogram rect.b { fill: var(--mac); }
svg.histogram rect.b.z { fill: var(--zero); }
svg.histogram text { font-size: 10px; fill: var(--muted); }
.seg { display: inline-flex; gap: 3px; }
.seg button.on { background: var(--accent); border-color: var(--accent); color: #fff; }
.fmaps { display: grid; grid-template-columns: repeat(8, 1fr); gap: 5px; }
.fmaps figure { margin: 0; text-align: center; }
.fmaps canvas.fmap { width: 100%; aspect-ratio: 1; image-rendering: pixelated; border-radius: 4px; display: block; background: var(--soft); }
.fmaps figcaption { font-size: 10px; color: var(--muted); }
#attention .att-wrap { display: flex; gap: 12px; align-items: flex-start; }
#attention canvas.att { width: 224px; height: 224px; border-radius: 6px; flex: none; }
#attention select { font: inherit; margin-bottom: 8px; }
.heads { flex: 1; min-width: 0; }
.heads .h { display: grid; grid-template-columns: 54px 1fr 40px; gap: 6px; align-items: center; font-size: 11px; cursor: pointer; padding: 1px 3px; border-radius: 4px; }
.heads .h.on { background: #fce7f3; }
.heads .h .track { height: 6px; background: var(--soft); border-radius: 3px; overflow: hidden; }
.heads .h .track i { display: block; height: 100%; background: var(--ent); }
.note { color: var(--muted); font-size: 11.5px; }
.empty { color: var(--muted); padding: 30px 10px; text-align: center; }
footer { color: var(--muted); font-size: 11px; padding: 0 22px 24px; }
`;
