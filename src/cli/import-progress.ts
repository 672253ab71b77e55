// Progress of `helix import` on stderr: one redrawn line on a terminal, a plain line every two
// seconds otherwise (so that logs of CI jobs stay readable). Messages interleave cleanly.

/** Where progress goes (process.stderr, or a test double). */
export interface ProgressSink {
  isTTY?: boolean;
  write(text: string): unknown;
}

/** Counts resources done and reports rate and ETA. */
export interface Progress {
  add(resources: number): void;
  /** Prints a message on its own line without garbling the progress line. */
  log(message: string): void;
  /** Prints the final state and stops the timer. */
  stop(): void;
}

const TTY_REDRAW_MS = 100;
const LINE_EVERY_MS = 2_000;

/** Starts reporting progress towards `total` resources. */
export function startProgress(sink: ProgressSink | undefined, total: number, now: () => number = () => performance.now()): Progress {
  const started = now();
  let done = 0;
  let lastDraw = -Infinity;
  if (!sink) return { add: (n) => void (done += n), log: () => undefined, stop: () => undefined };

  const tty = sink.isTTY === true;
  const line = (): string => formatProgress(done, total, (now() - started) / 1000);
  const draw = (): void => {
    lastDraw = now();
    sink.write(tty ? `\r\x1b[K${line()}` : `${line()}\n`);
  };
  const timer = tty ? undefined : setInterval(draw, LINE_EVERY_MS);
  timer?.unref();

  return {
    add(n) {
      done += n;
      if (tty && now() - lastDraw >= TTY_REDRAW_MS) draw();
    },
    log(message) {
      sink.write(tty ? `\r\x1b[K${message}\n` : `${message}\n`);
      if (tty) draw();
    },
    stop() {
      if (timer) clearInterval(timer);
      draw();
      if (tty) sink.write('\n');
    },
  };
}

/** `1,234 / 5,678 resources (21.7%)  412/s  ETA 0:10`. */
export function formatProgress(done: number, total: number, seconds: number): string {
  const rate = seconds > 0 ? done / seconds : 0;
  const percent = total > 0 ? ((100 * done) / total).toFixed(1) : '100.0';
  const eta = rate > 0 ? duration((total - done) / rate) : '?';
  return `${done.toLocaleString('en-US')} / ${total.toLocaleString('en-US')} resources (${percent}%)  ${Math.round(rate).toLocaleString('en-US')}/s  ETA ${eta}`;
}

function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}
