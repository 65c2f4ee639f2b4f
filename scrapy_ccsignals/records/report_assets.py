"""The HTML report's inline stylesheet and script (plain JavaScript, no libraries, no
network). Without JavaScript the page still shows everything: detail rows start open and
the script closes them."""

from __future__ import annotations

CSS = """
body{font:15px/1.45 system-ui,sans-serif;margin:1.5rem auto;max-width:1400px;padding:0 1rem;
color:#1d1d1f;background:#fff}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:2px solid #1d1d1f}
h4{margin:.6rem 0 .2rem}code{font-size:.9em;overflow-wrap:anywhere}
table{border-collapse:collapse;margin:.5rem 0}th,td{padding:.25rem .5rem;
border-bottom:1px solid #ddd;text-align:left;vertical-align:top}
thead th{background:#f3f3f3;font-size:.85rem}.num{text-align:right;font-variant-numeric:tabular-nums}
.facts{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}.facts dt{font-weight:600}
.facts dd{margin:0;overflow-wrap:anywhere}.facts ul{margin:0;padding-left:1.2rem}
.legend{list-style:none;padding:0;columns:2 28rem}.legend li{margin:.2rem 0}
.sw{vertical-align:-2px;margin-right:.3rem}.badge{white-space:nowrap;font-weight:600}
.flowbox{display:flex;flex-wrap:wrap;gap:1.5rem;align-items:flex-start}.flowbox>div{flex:1 1 640px}
.flow text,.timeline text{font-size:13px;fill:#1d1d1f}.flow .head{font-weight:700}
.halo{paint-order:stroke;stroke:#fff;stroke-width:4px;stroke-linejoin:round}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(380px,1fr));gap:1rem 2rem}
figure{margin:0}figcaption{font-weight:600;margin:.4rem 0}
.bars{width:100%;table-layout:fixed}.bars th{width:45%;font-weight:400;overflow-wrap:anywhere}
.bars .num{width:4rem}.barcell{padding:.3rem 0}
.empty,.note{color:#555}.why{color:#333;overflow-wrap:anywhere;font-size:.9em}
.scroll{overflow-x:auto}.origins th[scope=row]{min-width:14rem;overflow-wrap:anywhere}
.origins td{overflow-wrap:anywhere;max-width:16rem}
.toggle{font:inherit;width:1.8rem;cursor:pointer}.detail{display:flex;flex-wrap:wrap;gap:2rem}
.detail>div{flex:1 1 420px}.urls{padding-left:1.2rem}.urls li{margin:.2rem 0}
.js tr.more{display:none}.js tr.more.open{display:table-row}
.filters{display:flex;flex-wrap:wrap;gap:.8rem 1.2rem;align-items:end;margin:.5rem 0}
.filters label{display:flex;flex-direction:column;font-size:.85rem;font-weight:600}
.filters select,.filters input{font:inherit;max-width:22rem}#urls td:nth-child(2){max-width:40rem}
#urls tr[hidden]{display:none}
@media print{.toggle,.filters,.explore{display:none}.js tr.more{display:table-row}}
"""

SCRIPT = """
(function () {
  'use strict';
  document.body.classList.add('js');
  function all(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }
  // Origin rows open to their details.
  all('button.toggle').forEach(function (b) {
    b.addEventListener('click', function () {
      var row = document.getElementById(b.getAttribute('aria-controls'));
      var open = row.classList.toggle('open');
      b.setAttribute('aria-expanded', String(open));
      b.textContent = open ? '\\u2212' : '+';
    });
  });
  // The URL explorer: every filter narrows the rows; the count says how many are shown.
  var rows = all('#urls tbody tr');
  var origin = document.getElementById('f-origin'), outcome = document.getElementById('f-outcome');
  var family = document.getElementById('f-family'), text = document.getElementById('f-text');
  var count = document.getElementById('f-count');
  var haystacks = rows.map(function (r) { return r.textContent.toLowerCase(); });
  function apply() {
    var o = origin.value, c = outcome.value, f = family.value, q = text.value.trim().toLowerCase();
    var shown = 0;
    rows.forEach(function (r, i) {
      var ok = (!o || r.dataset.origin === o) && (!c || r.dataset.outcome === c) &&
        (!f || r.dataset.family.split(' ').indexOf(f) >= 0) && (!q || haystacks[i].indexOf(q) >= 0);
      r.hidden = !ok;
      if (ok && !r.classList.contains('rest')) shown++;
    });
    count.textContent = shown + ' URL' + (shown === 1 ? '' : 's') + ' shown';
    document.body.setAttribute('data-urls-shown', String(shown));
  }
  [origin, outcome, family].forEach(function (el) { el.addEventListener('change', apply); });
  text.addEventListener('input', apply);
  all('button.explore').forEach(function (b) {
    b.addEventListener('click', function () {
      origin.value = b.dataset.origin; outcome.value = ''; family.value = ''; text.value = '';
      apply();
      document.getElementById('explorer').scrollIntoView();
    });
  });
  apply();
  // Lets a headless browser confirm the charts have laid out.
  var drawn = all('rect.barrect, rect.seg').filter(function (r) { return r.getBBox().width > 0; });
  document.body.setAttribute('data-rendered-bars', String(drawn.length));
})();
"""
