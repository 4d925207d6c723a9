// IOPS against queue depth (randread), one panel per bdev, one line per path: log2 x, log10 y.
// Plain SVG text, no dependencies.
'use strict';
const { fmtIops } = require('./report');

const STYLE = {
  native: { color: '#222222', label: 'native bdevperf' },
  batch: { color: '#1b9e3a', label: 'batched API (IoQueue)' },
  promise: { color: '#1f5fbf', label: 'Promise API (allocBuffer)' },
  fs: { color: '#e08a00', label: 'Node fs.promises (page cache)' },
  'fs-direct': { color: '#c0392b', label: 'Node fs.promises (O_DIRECT)', dash: '6 4' },
};
const PANELS = [
  { target: 'null', title: 'null bdev' },
  { target: 'malloc', title: 'malloc bdev' },
  { target: 'aio', title: 'file: aio bdev (+ Node on the file)', fsTarget: 'file' },
  { target: 'uring', title: 'file: uring bdev (+ Node on the file)', fsTarget: 'file' },
  { target: 'uring-tmpfs', title: 'file in tmpfs: uring bdev (+ Node on it)', fsTarget: 'tmpfs' },
];
const W = 460;
const H = 320;
const M = { left: 64, right: 16, top: 34, bottom: 44 };

const decade = (e) => (e >= 6 ? `${10 ** (e - 6)}M` : e >= 3 ? `${10 ** (e - 3)}K` : String(10 ** e));
const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function plot(results, title) {
  const reads = results.filter((r) => r.workload === 'randread' && r.error === undefined && r.iops > 0);
  const panels = PANELS.map((p) => ({
    ...p,
    series: Object.keys(STYLE)
      .map((path) => {
        const target = path.startsWith('fs') ? (p.fsTarget ?? null) : p.target;
        const pts = reads.filter((r) => r.target === target && r.path === path).sort((a, b) => a.qd - b.qd);
        return { path, pts };
      })
      .filter((s) => s.pts.length > 0),
  })).filter((p) => p.series.length > 0);
  if (panels.length === 0) return null;

  const all = reads.filter((r) => r.target !== 'idle');
  const qds = [...new Set(all.map((r) => r.qd))].sort((a, b) => a - b);
  const lo = Math.floor(Math.log10(Math.min(...all.map((r) => r.iops))));
  const hi = Math.ceil(Math.log10(Math.max(...all.map((r) => r.iops))));
  const xMin = Math.log2(qds[0]);
  const xMax = Math.max(Math.log2(qds[qds.length - 1]), xMin + 1);

  const cols = 2;
  const legendH = 28;
  const width = cols * W;
  const height = 40 + legendH + Math.ceil(panels.length / cols) * H;
  const out = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`);
  out.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  out.push(`<text x="${width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${esc(title)}</text>`);
  let lx = 16;
  for (const [path, s] of Object.entries(STYLE)) {
    out.push(`<line x1="${lx}" y1="46" x2="${lx + 22}" y2="46" stroke="${s.color}" stroke-width="2.5"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>`);
    out.push(`<text x="${lx + 27}" y="50">${esc(s.label)}</text>`);
    lx += 32 + s.label.length * 6.2;
  }

  panels.forEach((panel, i) => {
    const ox = (i % cols) * W;
    const oy = 40 + legendH + Math.floor(i / cols) * H;
    const pw = W - M.left - M.right;
    const ph = H - M.top - M.bottom;
    const x = (qd) => ox + M.left + ((Math.log2(qd) - xMin) / (xMax - xMin)) * pw;
    const y = (iops) => oy + M.top + ph - ((Math.log10(iops) - lo) / (hi - lo)) * ph;
    out.push(`<text x="${ox + M.left + pw / 2}" y="${oy + 20}" text-anchor="middle" font-size="13" font-weight="bold">${esc(panel.title)}</text>`);
    out.push(`<rect x="${ox + M.left}" y="${oy + M.top}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`);
    for (let e = lo; e <= hi; e++) {
      const yy = y(10 ** e);
      out.push(`<line x1="${ox + M.left}" y1="${yy}" x2="${ox + M.left + pw}" y2="${yy}" stroke="#ddd"/>`);
      out.push(`<text x="${ox + M.left - 6}" y="${yy + 4}" text-anchor="end">${decade(e)}</text>`);
      if (e < hi) {
        for (const m of [2, 5]) {
          const ym = y(m * 10 ** e);
          out.push(`<line x1="${ox + M.left}" y1="${ym}" x2="${ox + M.left + pw}" y2="${ym}" stroke="#f0f0f0"/>`);
        }
      }
    }
    for (const qd of qds) {
      const xx = x(qd);
      out.push(`<line x1="${xx}" y1="${oy + M.top}" x2="${xx}" y2="${oy + M.top + ph}" stroke="#eee"/>`);
      out.push(`<text x="${xx}" y="${oy + M.top + ph + 15}" text-anchor="middle">${qd}</text>`);
    }
    out.push(`<text x="${ox + M.left + pw / 2}" y="${oy + H - 10}" text-anchor="middle">queue depth</text>`);
    out.push(`<text transform="translate(${ox + 14},${oy + M.top + ph / 2}) rotate(-90)" text-anchor="middle">IOPS (randread, 4 KiB)</text>`);
    for (const s of panel.series) {
      const st = STYLE[s.path];
      const d = s.pts.map((r, k) => `${k === 0 ? 'M' : 'L'}${x(r.qd).toFixed(1)},${y(r.iops).toFixed(1)}`).join(' ');
      out.push(`<path d="${d}" fill="none" stroke="${st.color}" stroke-width="2"${st.dash ? ` stroke-dasharray="${st.dash}"` : ''}/>`);
      for (const r of s.pts) {
        out.push(`<circle cx="${x(r.qd).toFixed(1)}" cy="${y(r.iops).toFixed(1)}" r="3" fill="${st.color}"><title>${esc(`${r.id}: ${fmtIops(r.iops)} IOPS`)}</title></circle>`);
      }
    }
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

module.exports = { plot };
