/* Tributary web player: hls.js + playback events to POST /v1/events (contract: playback-event/1). */
(function () {
  'use strict';
  var POSITION_INTERVAL_MS = 10000;
  var STATUS_INTERVAL_MS = 3000;
  // Live catch-up: play 3 segments behind the edge; more than 6 behind (a tab in the background, a
  // stall, a transcoder that caught up after a restart) jumps to the edge; in between, hls.js
  // plays up to 1.25x until it is back at the target.
  var LIVE_SYNC_SEGMENTS = 3;
  var LIVE_MAX_LATENCY_SEGMENTS = 6;
  var LIVE_CATCH_UP_RATE = 1.25;
  // Low-latency streams (latency_mode "low", LL-HLS parts): hls.js keeps PART-HOLD-BACK behind the
  // edge with blocking playlist reloads, catches up at up to 1.1x (barely audible), and keeps 30 s
  // of played media (a finite back buffer: a long session never grows the page's memory).
  var LOW_LATENCY_CATCH_UP_RATE = 1.1;
  var LOW_LATENCY_BACK_BUFFER_SECONDS = 30;
  // hls.js 1.7 bounds nothing in low-latency mode (liveMaxLatencyDurationCount is Infinity) and
  // speeds up only while more than 1 s is buffered, which a player PART-HOLD-BACK behind the edge
  // never has: one that fell behind (start-up, a stall, a background tab) stayed behind for good
  // (measured: 2.9 s behind a 0.67 s target). More than this far behind its target, it jumps to
  // the live edge (hls.js seeks to its live sync position; set per playlist, see lowLatencyBound).
  var LOW_LATENCY_MAX_BEHIND_SECONDS = 1.5;

  var streamId = decodeURIComponent(location.pathname.split('/').filter(Boolean)[1] || '');
  var params = new URLSearchParams(location.search);
  var video = document.getElementById('video');
  var qualitySelect = document.getElementById('quality');
  var stateBadge = document.getElementById('state');
  var messageBox = document.getElementById('message');
  var levelLabel = document.getElementById('level');
  var fromStartBox = document.getElementById('from-start');
  var latencyLabel = document.getElementById('latency');

  function randomId() {
    if (window.crypto && typeof window.crypto.randomUUID === 'function') return window.crypto.randomUUID();
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return (b + 0x100).toString(16).slice(1); }).join('');
  }

  function userId() {
    try {
      var stored = localStorage.getItem('tributary.user_id');
      if (stored) return stored;
      var fresh = 'u-' + randomId();
      localStorage.setItem('tributary.user_id', fresh);
      return fresh;
    } catch (e) {
      return 'anonymous';
    }
  }

  var sessionId = randomId(); // one per page load
  var viewer = userId();
  var hls = null;
  var loadedUrl = null;
  var currentBitrateKbps = 0;
  var buffering = false;
  var started = false;
  var lastState = null;
  var lowLatency = false;

  function event(type) {
    var e = {
      event_id: randomId(),
      session_id: sessionId,
      user_id: viewer,
      stream_id: streamId,
      event_type: type,
      position_seconds: Math.max(0, Number.isFinite(video.currentTime) ? video.currentTime : 0),
      bitrate_kbps: Math.max(0, currentBitrateKbps),
      device: 'web',
      ts: new Date().toISOString(),
      source: 'player',
      playback_rate: video.playbackRate || 1
    };
    var buffered = bufferAheadMs();
    if (buffered !== null) e.buffer_length_ms = buffered;
    if (hls && hls.bandwidthEstimate > 0 && Number.isFinite(hls.bandwidthEstimate)) {
      e.throughput_kbps = Math.round(hls.bandwidthEstimate / 1000);
    }
    return e;
  }

  function bufferAheadMs() {
    for (var i = 0; i < video.buffered.length; i++) {
      if (video.buffered.start(i) <= video.currentTime && video.currentTime <= video.buffered.end(i)) {
        return Math.round((video.buffered.end(i) - video.currentTime) * 1000);
      }
    }
    return null;
  }

  function send(type) {
    var body = JSON.stringify(event(type));
    fetch('/v1/events', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: body, keepalive: true })
      .catch(function () { /* analytics must never break playback */ });
  }

  function sendBeacon(type) {
    var body = JSON.stringify(event(type));
    // text/plain keeps sendBeacon a "simple" request (no CORS preflight); the endpoint accepts it.
    var sent = navigator.sendBeacon && navigator.sendBeacon('/v1/events', new Blob([body], { type: 'text/plain' }));
    if (!sent) fetch('/v1/events', { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: body, keepalive: true }).catch(function () {});
  }

  function showState(stream) {
    document.getElementById('title').textContent = stream.title;
    document.title = stream.title + ' — Tributary';
    stateBadge.textContent = stream.state;
    stateBadge.className = 'state ' + stream.state;
    messageBox.textContent = stream.state === 'error' ? 'The stream failed: ' + (stream.reason || 'unknown error')
      : stream.state === 'idle' ? 'The stream has not started yet.' : '';
  }

  // A private (signed) stream: /watch/<id>?token=… passes the playback token on; the playlists the
  // server writes carry it into every segment URI, so hls.js needs nothing else.
  var playbackToken = params.get('token');

  function withToken(url) {
    if (!playbackToken) return url;
    return url + (url.indexOf('?') >= 0 ? '&' : '?') + 'token=' + encodeURIComponent(playbackToken);
  }

  function sourceFor(stream) {
    var from = params.get('from');
    if (fromStartBox.checked) from = 'start';
    if (from) return withToken('/vod/' + streamId + '/master.m3u8?from=' + encodeURIComponent(from));
    // Ended: replay the whole archive rather than the last live window.
    if (stream.state === 'ended' || stream.state === 'error') return withToken('/vod/' + streamId + '/master.m3u8');
    return withToken('/live/' + streamId + '/master.m3u8');
  }

  function fillQualities() {
    while (qualitySelect.options.length > 1) qualitySelect.remove(1);
    hls.levels.forEach(function (level, index) {
      var option = document.createElement('option');
      option.value = String(index);
      option.textContent = (level.height ? level.height + 'p' : level.name || 'level ' + index) + ' (' + Math.round(level.bitrate / 1000) + ' kbps)';
      qualitySelect.appendChild(option);
    });
    qualitySelect.value = String(hls.autoLevelEnabled ? -1 : hls.currentLevel);
  }

  function load(url) {
    if (hls) hls.destroy();
    loadedUrl = url;
    if (!window.Hls || !window.Hls.isSupported()) {
      // Safari plays HLS natively.
      video.src = url;
      video.play().catch(function () {});
      return;
    }
    hls = new window.Hls(lowLatency ? {
      lowLatencyMode: true,
      maxLiveSyncPlaybackRate: LOW_LATENCY_CATCH_UP_RATE,
      backBufferLength: LOW_LATENCY_BACK_BUFFER_SECONDS,
      cmcd: { sessionId: sessionId, contentId: streamId },
      manifestLoadingMaxRetry: 2
    } : {
      liveSyncDurationCount: LIVE_SYNC_SEGMENTS,
      liveMaxLatencyDurationCount: LIVE_MAX_LATENCY_SEGMENTS,
      maxLiveSyncPlaybackRate: LIVE_CATCH_UP_RATE,
      cmcd: { sessionId: sessionId, contentId: streamId },
      manifestLoadingMaxRetry: 2
    });
    if (lowLatency) hls.on(window.Hls.Events.LEVEL_UPDATED, lowLatencyBound);
    hls.on(window.Hls.Events.MANIFEST_PARSED, function () {
      fillQualities();
      video.play().catch(function () { messageBox.textContent = 'Press play to start.'; });
    });
    hls.on(window.Hls.Events.LEVEL_SWITCHED, function (_name, data) {
      var level = hls.levels[data.level];
      if (!level) return;
      currentBitrateKbps = Math.round(level.bitrate / 1000);
      levelLabel.textContent = 'Playing ' + (level.height ? level.height + 'p' : 'level ' + data.level) + ' at ' + currentBitrateKbps + ' kbps';
      send('bitrate');
    });
    hls.on(window.Hls.Events.ERROR, function (_name, data) {
      if (data.details === window.Hls.ErrorDetails.BUFFER_STALLED_ERROR) startBuffering();
      if (!data.fatal) return;
      if (data.type === window.Hls.ErrorTypes.MEDIA_ERROR) {
        hls.recoverMediaError();
        return;
      }
      // Typically: no segments yet (404). Try again shortly.
      messageBox.textContent = 'Waiting for the stream… (' + data.details + ')';
      hls.destroy();
      hls = null;
      loadedUrl = null;
      setTimeout(poll, 2000);
    });
    hls.loadSource(url);
    hls.attachMedia(video);
  }

  function startBuffering() {
    if (buffering || !started) return;
    buffering = true;
    send('buffer_start');
  }

  function endBuffering() {
    if (!buffering) return;
    buffering = false;
    send('buffer_end');
  }

  video.addEventListener('playing', function () {
    endBuffering();
    if (!started) {
      started = true;
      send('play');
    }
  });
  video.addEventListener('play', function () {
    if (started) send('play'); // resumed after a pause
  });
  video.addEventListener('pause', function () {
    if (started && !video.ended) send('pause');
  });
  video.addEventListener('seeking', function () {
    if (started) send('seek');
  });
  video.addEventListener('waiting', startBuffering);
  var stopped = false;
  video.addEventListener('ended', function () {
    if (!started || stopped) return;
    stopped = true;
    send('stop');
  });

  setInterval(function () {
    if (started && !video.paused && !video.ended) send('position');
  }, POSITION_INTERVAL_MS);

  function stop() {
    if (stopped || !started) return;
    stopped = true;
    sendBeacon('stop');
  }
  window.addEventListener('pagehide', stop);
  window.addEventListener('beforeunload', stop);

  qualitySelect.addEventListener('change', function () {
    if (!hls) return;
    var level = Number(qualitySelect.value);
    hls.currentLevel = level; // -1 = auto (ABR)
  });
  fromStartBox.addEventListener('change', function () {
    lastState = null;
    loadedUrl = null;
    poll();
  });

  function poll() {
    fetch('/v1/streams/' + encodeURIComponent(streamId))
      .then(function (response) {
        if (response.status === 404) throw new Error('This stream does not exist.');
        if (!response.ok) throw new Error('Could not load the stream (' + response.status + ').');
        return response.json();
      })
      .then(function (stream) {
        showState(stream);
        // Read before the first load: the hls.js settings depend on it.
        if (!loadedUrl) lowLatency = stream.latency_mode === 'low';
        var playable = stream.state === 'live' || stream.state === 'ended' || stream.state === 'error';
        var wanted = sourceFor(stream);
        // Switch to the archive when a live stream ends only if nothing is playing yet.
        if (playable && (!loadedUrl || (lastState !== stream.state && !started && wanted !== loadedUrl))) load(wanted);
        lastState = stream.state;
      })
      .catch(function (error) {
        messageBox.textContent = error.message;
      });
  }

  // hls.js reads liveMaxLatencyDuration on every playlist update, after LEVEL_UPDATED; its
  // constructor rejects it without a liveSyncDuration, which would override PART-HOLD-BACK.
  function lowLatencyBound(_name, data) {
    var target = data.details.partHoldBack || data.details.holdBack;
    if (data.details.live && target > 0) hls.config.liveMaxLatencyDuration = target + LOW_LATENCY_MAX_BEHIND_SECONDS;
  }

  /**
   * How far behind real time the picture is: the wall clock minus the program date time
   * (EXT-X-PROGRAM-DATE-TIME, the transcoder's date of each segment's or part's first frame) of what
   * is playing.
   */
  function latencySeconds() {
    var playing = hls && hls.playingDate;
    if (!playing || video.paused) return null;
    return Math.max(0, (Date.now() - playing.getTime()) / 1000);
  }

  setInterval(function () {
    var latency = latencySeconds();
    var live = loadedUrl && loadedUrl.indexOf('/live/') === 0;
    latencyLabel.textContent = live && latency !== null
      ? 'Latency ' + latency.toFixed(lowLatency ? 2 : 1) + ' s' + (lowLatency ? ' (low-latency)' : '')
      : '';
  }, 250);

  window.tributaryPlayer = {
    sessionId: sessionId,
    streamId: streamId,
    get hls() { return hls; },
    get latencySeconds() { return latencySeconds(); },
    get lowLatency() { return lowLatency; }
  };
  poll();
  setInterval(poll, STATUS_INTERVAL_MS);
})();
