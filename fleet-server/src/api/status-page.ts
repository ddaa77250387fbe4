/**
 * @module api/status-page
 * A minimal live status page (the full console comes later): devices with the model version
 * they run, what they are assigned and its state, last seen, backlog and stored records.
 * Plain HTML and a polling script against the REST API; no build step.
 *
 * The API needs an admin token. The page takes it from the URL fragment (`/#token=…`, printed by
 * `npm start` and `edgeloop serve`; a fragment never reaches the server or its logs), keeps it in
 * localStorage, removes it from the address bar, and sends it as a bearer token.
 */
export const STATUS_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>EdgeLoop fleet</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
 body{font:14px/1.4 system-ui,sans-serif;margin:2rem;color:#1d2330}
 h1{font-size:1.3rem;margin:0 0 .2rem} .sub{color:#667;margin-bottom:1.2rem}
 table{border-collapse:collapse;min-width:60rem;margin-bottom:1.5rem} th,td{padding:.35rem .7rem;text-align:left;border-bottom:1px solid #e3e6ec}
 th{font-weight:600;background:#f5f6f8} .on{color:#11813a} .off{color:#b3261e} .warn{color:#b3261e} code{font-size:12px}
</style></head>
<body>
<h1>EdgeLoop fleet</h1><div class="sub" id="summary">loading…</div>
<h2>Devices</h2>
<table><thead><tr><th>Device</th><th>Status</th><th>Group / tags</th><th>Running</th><th>Assigned</th><th>Last seen</th><th>Backlog</th><th>Dropped</th><th>Records</th><th>Arch / runtime</th></tr></thead><tbody id="devices"></tbody></table>
<h2>Models</h2>
<table><thead><tr><th>Model</th><th>Version</th><th>sha256</th><th>Size</th><th>Created</th><th>Expires</th></tr></thead><tbody id="models"></tbody></table>
<script>
const TOKEN_KEY = 'edgeloop.adminToken';
const fromHash = /(?:^#|&)token=([^&]+)/.exec(location.hash);
if (fromHash) {
  localStorage.setItem(TOKEN_KEY, decodeURIComponent(fromHash[1]));
  history.replaceState(null, '', location.pathname + location.search);
}
async function api(path) {
  const token = localStorage.getItem(TOKEN_KEY);
  const res = await fetch(path, token ? { headers: { authorization: 'Bearer ' + token } } : {});
  if (res.status === 401) {
    localStorage.removeItem(TOKEN_KEY);
    throw new Error('this page needs an admin token: open the URL npm start / edgeloop serve printed (…/#token=…), or add #token=<token> from the admin.token file in the server data directory to this address');
  }
  if (!res.ok) throw new Error(path + ' answered HTTP ' + res.status);
  return res.json();
}
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;',"'":'&#39;'}[c]));
const ago = (t) => t == null ? 'never' : Math.max(0, Math.round((Date.now() - t) / 1000)) + 's ago';
async function refresh() {
  try {
    const [d, m] = await Promise.all([api('/api/v1/devices'), api('/api/v1/models')]);
    const online = d.devices.filter(x => x.online).length;
    const records = d.devices.reduce((a, x) => a + x.records, 0);
    document.getElementById('summary').textContent = d.devices.length + ' devices, ' + online + ' online, ' + records + ' records stored — updated ' + new Date().toLocaleTimeString();
    document.getElementById('devices').innerHTML = d.devices.map(x => '<tr data-device="' + esc(x.id) + '">' +
      '<td>' + esc(x.id) + '</td><td class="' + (x.disabled ? 'warn' : x.online ? 'on' : 'off') + '">' + (x.disabled ? 'disabled' : x.online ? 'online' : 'offline') + '</td>' +
      '<td>' + esc(x.group || '') + ' ' + Object.entries(x.tags || {}).map(([k, v]) => '<code>' + esc(k) + '=' + esc(v) + '</code>').join(' ') + '</td>' +
      '<td>' + x.models.map(r => esc(r.name) + ' v' + r.version).join(', ') + '</td>' +
      '<td>' + x.assignments.map(a => esc(a.model) + ' v' + a.version + ' <span class="' + (a.state === 'rejected' || a.state === 'failed' ? 'warn' : '') + '">' + esc(a.state) + (a.reason ? ': ' + esc(a.reason) : '') + '</span>').join('<br>') + '</td>' +
      '<td>' + ago(x.lastSeen) + '</td><td>' + x.backlog + '</td><td class="' + (x.dropped ? 'warn' : '') + '">' + x.dropped + '</td><td class="records">' + x.records + '</td>' +
      '<td>' + esc(x.arch) + (x.hardware ? ' · ' + esc(x.hardware) : '') + ' / ' + esc(x.runtime ? x.runtime.name + ' ' + x.runtime.version : '') + '</td></tr>').join('');
    document.getElementById('models').innerHTML = m.models.map(v => '<tr><td>' + esc(v.name) + '</td><td>v' + v.version + '</td><td><code>' + esc(v.sha256.slice(0, 16)) + '</code></td><td>' + v.size + ' B</td><td>' + esc(v.createdAt) + '</td><td>' + esc(v.expiresAt) + '</td></tr>').join('');
  } catch (e) {
    document.getElementById('summary').textContent = 'cannot load the fleet: ' + e.message;
  }
}
refresh(); setInterval(refresh, 2000);
</script>
</body></html>`;
