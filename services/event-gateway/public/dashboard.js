// Tributary live dashboard: Socket.IO namespace /playback (events, statistics, resume, notices).
'use strict';
(function () {
  const KEEP = 100;
  const CHART_MS = 10 * 60 * 1000;
  const params = new URLSearchParams(location.search);
  const streamFilter = params.get('stream') || '';
  const accessToken = params.get('token') || '';
  const typeFilter = params.get('type') || '';
  const $ = (id) => document.getElementById(id);
  $('stream').value = streamFilter;
  $('type').value = typeFilter;

  /** Last Kafka offset seen per partition (decimal strings; BigInt to compare), and the last event time. */
  const positions = new Map();
  let lastTs;
  let received = 0;
  const state = { received: 0, positions, cards: new Map(), notices: [] };
  window.__dashboard = state;

  function setStatus(kind, text) {
    $('status').dataset.state = kind;
    $('status').textContent = text;
  }

  function cell(text, className) {
    const td = document.createElement('td');
    td.textContent = text;
    if (className) td.className = className;
    return td;
  }

  function onEvent(message) {
    const { event, position } = message;
    const seen = positions.get(position.partition);
    if (seen === undefined || BigInt(position.offset) > BigInt(seen)) positions.set(position.partition, position.offset);
    lastTs = event.ts;
    received += 1;
    state.received = received;
    $('counts').textContent = received + ' received';
    if (typeFilter && event.event_type !== typeFilter) return;
    const row = document.createElement('tr');
    row.dataset.type = event.event_type;
    row.dataset.eventId = event.event_id;
    row.append(
      cell(new Date(event.ts).toLocaleTimeString()),
      cell(event.event_type, 'type'),
      cell(event.stream_id),
      cell(event.session_id),
      cell(event.device),
      cell(event.source || 'player'),
      cell(Number(event.position_seconds).toFixed(1)),
      cell(String(event.bitrate_kbps)),
      cell(position.partition + '/' + position.offset),
    );
    const tbody = $('events');
    tbody.prepend(row);
    while (tbody.rows.length > KEEP) tbody.deleteRow(-1);
  }

  function fmt(value, digits, unit) {
    return value === null || value === undefined ? '–' : Number(value).toFixed(digits) + (unit || '');
  }

  function chart(title, container, color) {
    const width = Math.max(280, container.clientWidth || 320);
    return new uPlot(
      {
        title,
        width,
        height: 110,
        legend: { show: false },
        scales: { x: { time: true } },
        axes: [{ size: 24 }, { size: 56 }],
        series: [{}, { stroke: color, width: 2, fill: color + '22' }],
      },
      [[], []],
      container,
    );
  }

  function card(streamId) {
    let entry = state.cards.get(streamId);
    if (entry) return entry;
    $('no-stats').hidden = true;
    const root = document.createElement('div');
    root.className = 'card';
    root.dataset.stream = streamId;
    root.innerHTML =
      '<h3></h3><div class="figures">' +
      ['viewers', 'bitrate', 'rebuffer', 'startup', 'plays', 'events'].map((name) => '<div class="figure"><b data-figure="' + name + '">–</b><span></span></div>').join('') +
      '</div><div class="chart" data-chart="viewers"></div><div class="chart" data-chart="bitrate"></div>';
    root.querySelector('h3').textContent = streamId;
    const labels = ['active viewers', 'avg bitrate (10 s)', 'rebuffering (1 min)', 'startup p50 / p95 (1 min)', 'plays started (1 min)', 'events (10 s)'];
    root.querySelectorAll('.figure span').forEach((span, i) => (span.textContent = labels[i]));
    $('cards').append(root);
    entry = {
      root,
      points: [],
      viewersChart: chart('viewers', root.querySelector('[data-chart="viewers"]'), '#1a7f37'),
      bitrateChart: chart('bitrate kbps', root.querySelector('[data-chart="bitrate"]'), '#0969da'),
    };
    state.cards.set(streamId, entry);
    return entry;
  }

  function redraw(entry) {
    const cutoff = Date.now() - CHART_MS;
    entry.points = entry.points.filter((p) => Date.parse(p.t) >= cutoff);
    const xs = entry.points.map((p) => Date.parse(p.t) / 1000);
    entry.viewersChart.setData([xs, entry.points.map((p) => p.viewers)]);
    entry.bitrateChart.setData([xs, entry.points.map((p) => p.bitrate_kbps)]);
  }

  function onHistory(history) {
    const entry = card(history.stream_id);
    const known = new Set(entry.points.map((p) => p.t));
    for (const point of history.points) if (!known.has(point.t)) entry.points.push(point);
    entry.points.sort((a, b) => a.t.localeCompare(b.t));
    redraw(entry);
  }

  function onStats(stats) {
    const entry = card(stats.stream_id);
    const [short, long] = [stats.windows[0], stats.windows[stats.windows.length - 1]];
    const set = (name, text) => (entry.root.querySelector('[data-figure="' + name + '"]').textContent = text);
    set('viewers', String(stats.active_viewers));
    set('bitrate', fmt(short.bitrate.avg_kbps, 0, ' kbps'));
    set('rebuffer', long.rebuffering.ratio === null ? '–' : (long.rebuffering.ratio * 100).toFixed(1) + ' %');
    set('startup', fmt(long.startup.p50_ms, 0) + ' / ' + fmt(long.startup.p95_ms, 0, ' ms'));
    set('plays', String(long.plays_started));
    set('events', String(short.events));
    if (!entry.points.some((p) => p.t === stats.generated_at)) {
      entry.points.push({ t: stats.generated_at, viewers: stats.active_viewers, bitrate_kbps: short.bitrate.avg_kbps });
      redraw(entry);
    }
  }

  // On every (re)connection the handshake carries the filter and, after the first, where we were:
  // the server replays what we missed before live events (no gap, no duplicates).
  const socket = io('/playback', {
    auth: (callback) => {
      const auth = streamFilter ? { streamId: streamFilter, history: true } : { history: true };
      // ?token=: FIREHOSE_TOKEN for every stream, or a signed stream's playback token with ?stream=.
      if (accessToken) auth.token = accessToken;
      if (positions.size > 0) {
        auth.resume = { positions: [...positions].map(([partition, offset]) => ({ partition, offset })) };
        if (lastTs) auth.resume.since = lastTs;
      }
      callback(auth);
    },
  });
  socket.on('connect', () => setStatus('connected', 'connected'));
  socket.on('disconnect', (reason) => {
    setStatus('disconnected', 'disconnected (' + reason + ')');
    // The server closed us (e.g. too slow): reconnect ourselves; other reasons reconnect automatically.
    if (reason === 'io server disconnect') setTimeout(() => socket.connect(), 1000);
  });
  socket.io.on('reconnect_attempt', () => setStatus('connecting', 'reconnecting…'));
  socket.on('connect_error', (error) => setStatus('disconnected', 'cannot connect: ' + error.message));
  socket.on('error', (error) => ($('notice').textContent = error.message));
  // Protocol 2: one 'playback.events' packet per flush with the events in order.
  socket.on('playback.events', (batch) => batch.forEach(onEvent));
  socket.on('playback.stats', onStats);
  socket.on('playback.stats.history', onHistory);
  socket.on('notice', (notice) => {
    state.notices.push(notice);
    $('notice').textContent = notice.message;
    // Back from lagging: reconnect with our positions to fetch the events we did not get.
    if (notice.code === 'recovered') socket.disconnect().connect();
  });

  $('filter').addEventListener('submit', (submit) => {
    submit.preventDefault();
    const url = new URL(location.href);
    const stream = $('stream').value.trim();
    const type = $('type').value;
    if (stream) url.searchParams.set('stream', stream); else url.searchParams.delete('stream');
    if (type) url.searchParams.set('type', type); else url.searchParams.delete('type');
    location.assign(url);
  });
})();
